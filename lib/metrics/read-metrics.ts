import { ApiError } from "@/lib/api/errors";
import { hasOperatorToken } from "@/lib/auth/operator-token";
import { env } from "@/lib/env.mjs";
import { metrics } from "@/lib/metrics/metrics";

/** Prometheus text; with METRICS_TOKEN set, only for `Authorization: Bearer <token>`. */
export async function readMetrics(authorization: string | null): Promise<{ body: string; contentType: string }> {
  if (env.METRICS_TOKEN && !hasOperatorToken(authorization)) {
    throw new ApiError("unauthorized", "Metrics need the bearer token set in METRICS_TOKEN.");
  }
  return { body: await metrics.registry.metrics(), contentType: metrics.registry.contentType };
}
