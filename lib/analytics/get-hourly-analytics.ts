import "server-only";
import canonicalize from "canonicalize";
import { z } from "zod";
import { ANALYTICS_TAG } from "@/lib/batches/on-batch-changed";
import { cached } from "@/lib/cache/tiered-cache";
import { dbAnalytics } from "@/lib/db/client";

const plausibleTime = z.iso
  .datetime({ offset: true })
  .refine((value) => value.slice(0, 4) >= "1900", "must be after 1900");

export const hourlyQuerySchema = z
  .object({
    cropType: z.string().trim().min(1).max(64).optional(),
    from: plausibleTime.optional(),
    to: plausibleTime.optional(),
    limit: z.coerce.number().int().min(1).max(5000).default(500),
  })
  .strict();

export type HourlyPoint = {
  hour: string;
  cropType: string;
  batchCount: number;
  avgQuality: number;
  medianQuantity: number;
};

// The view changes at each refresh (every ANALYTICS_REFRESH_SECONDS) and with batches: a minute is fresh enough.
const CACHE_SECONDS = 60;

export function getHourlyAnalytics(query: z.infer<typeof hourlyQuerySchema>): Promise<HourlyPoint[]> {
  return cached(`analytics:hourly:${canonicalize(query)}`, () => loadHourlyAnalytics(query), {
    tags: [ANALYTICS_TAG],
    ttlSeconds: CACHE_SECONDS,
  });
}

async function loadHourlyAnalytics(query: z.infer<typeof hourlyQuerySchema>): Promise<HourlyPoint[]> {
  const rows = await dbAnalytics.cropAnalyticsHourly.findMany({
    where: {
      ...(query.cropType ? { cropType: query.cropType.toLowerCase() } : {}),
      hour: {
        gte: query.from ? new Date(query.from) : new Date(Date.now() - 7 * 24 * 3_600_000),
        ...(query.to ? { lte: new Date(query.to) } : {}),
      },
    },
    orderBy: [{ hour: "desc" }, { cropType: "asc" }],
    take: query.limit,
  });
  return rows.map((row) => ({
    hour: row.hour.toISOString(),
    cropType: row.cropType,
    batchCount: row.batchCount,
    avgQuality: row.avgQuality.toNumber(),
    medianQuantity: row.medianQuantity.toNumber(),
  }));
}
