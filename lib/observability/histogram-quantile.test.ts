import { describe, expect, it } from "vitest";
import { histogramQuantile } from "@/lib/observability/histogram-quantile";

const INF = Number.POSITIVE_INFINITY;

describe("histogramQuantile", () => {
  // Cumulative: 10 at most 0.1 s, 10 more up to 0.2 s, 80 more up to 0.5 s, none slower.
  const buckets = { bounds: [0.1, 0.2, 0.5, INF], counts: [10, 20, 100, 100] };

  it("interpolates linearly within the bucket the rank falls in, as PromQL's histogram_quantile does", () => {
    // Rank 50 falls 30 of the 80 into (0.2, 0.5]; rank 99 falls 79 of 80 into it.
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.2 + 0.3 * (30 / 80), 12);
    expect(histogramQuantile(0.99, buckets)).toBeCloseTo(0.2 + 0.3 * (79 / 80), 12);
    // Rank 15 is half way through (0.1, 0.2].
    expect(histogramQuantile(0.15, buckets)).toBeCloseTo(0.15, 12);
  });

  it("starts the first bucket at 0", () => {
    expect(histogramQuantile(0.05, buckets)).toBeCloseTo(0.05, 12);
  });

  it("answers the highest finite bound when the rank falls among the observations over it", () => {
    const slow = { bounds: [0.1, 0.2, INF], counts: [10, 20, 100] };
    expect(histogramQuantile(0.5, slow)).toBe(0.2);
  });

  it("has no answer without observations", () => {
    expect(histogramQuantile(0.5, { bounds: [0.1, INF], counts: [0, 0] })).toBeNull();
    expect(histogramQuantile(0.5, { bounds: [], counts: [] })).toBeNull();
  });
});
