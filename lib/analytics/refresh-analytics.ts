import "server-only";
import { ANALYTICS_TAG } from "@/lib/batches/on-batch-changed";
import { invalidateAll } from "@/lib/cache/tiered-cache";
import { dbAnalytics } from "@/lib/db/client";

/** Recomputes crop_analytics_hourly for hours since `since` (default: the last 24 hours). */
export async function refreshAnalytics(since?: Date): Promise<number> {
  const rows = since
    ? await dbAnalytics.$queryRaw<
        { written: number }[]
      >`SELECT refresh_crop_analytics_hourly(${since}::timestamptz) AS written`
    : await dbAnalytics.$queryRaw<{ written: number }[]>`SELECT refresh_crop_analytics_hourly() AS written`;
  await invalidateAll({ tags: [ANALYTICS_TAG] });
  return rows[0]?.written ?? 0;
}
