import { timingSafeEqual } from "node:crypto";
import { ApiError } from "@/lib/api/errors";
import { env } from "@/lib/env.mjs";
import { metrics } from "@/lib/metrics/metrics";

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Prometheus text; with METRICS_TOKEN set, only for `Authorization: Bearer <token>`. */
export async function readMetrics(authorization: string | null): Promise<{ body: string; contentType: string }> {
  if (env.METRICS_TOKEN && !sameSecret(authorization ?? "", `Bearer ${env.METRICS_TOKEN}`)) {
    throw new ApiError("unauthorized", "Metrics need the bearer token set in METRICS_TOKEN.");
  }
  return { body: await metrics.registry.metrics(), contentType: metrics.registry.contentType };
}
