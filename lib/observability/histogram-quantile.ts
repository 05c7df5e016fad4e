import type { Buckets } from "@/lib/observability/read-registry";

/**
 * The q-quantile of the observations in cumulative buckets, as PromQL's histogram_quantile estimates it: linear
 * within the bucket the rank falls in, from 0 for the first; the highest finite bound when it falls in +Inf's.
 * Null without observations.
 */
export function histogramQuantile(q: number, { bounds, counts }: Buckets): number | null {
  const total = counts.at(-1) ?? 0;
  if (total === 0 || bounds.length < 2) return null;
  const rank = q * total;
  const index = counts.findIndex((count, position) => position === counts.length - 1 || count >= rank);
  if (index === counts.length - 1) return bounds[index - 1] ?? null;
  const end = bounds[index] ?? 0;
  if (index === 0) return end <= 0 ? end : end * (rank / (counts[0] ?? 1));
  const start = bounds[index - 1] ?? 0;
  const below = counts[index - 1] ?? 0;
  return start + (end - start) * ((rank - below) / ((counts[index] ?? 0) - below));
}
