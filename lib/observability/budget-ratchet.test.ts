import { describe, expect, it } from "vitest";
import { LATENCY_BUCKETS } from "@/lib/metrics/buckets.mjs";
import {
  closePeriod,
  NEW_TREND,
  type RatchetRules,
  type Trend,
  tightenedBudget,
} from "@/lib/observability/budget-ratchet";
import { histogramQuantile } from "@/lib/observability/histogram-quantile";
import type { Buckets } from "@/lib/observability/read-registry";

const BOUNDS = [...LATENCY_BUCKETS, Number.POSITIVE_INFINITY];
const RULES: RatchetRules = { minRequests: 1_000, periods: 24, headroom: 1.5 };
const API_BOUND = 0.1;

/** A period of `requests` observations exponentially distributed with this P99 (the buckets give it approximately). */
function period(p99: number, requests = 2_000): Buckets {
  return { bounds: BOUNDS, counts: BOUNDS.map((bound) => requests * (1 - Math.exp((-bound * Math.log(100)) / p99))) };
}

/** The API budget after periods of these durations, from a fresh trend at the SLA bound. */
function run(durations: number[], start: { trend?: Trend; budgetSeconds?: number } = {}, requests = 2_000) {
  let trend = start.trend ?? NEW_TREND;
  let budgetSeconds = start.budgetSeconds ?? API_BOUND;
  const regressions: number[] = [];
  durations.forEach((seconds, index) => {
    const outcome = closePeriod(trend, period(seconds, requests), {
      budgetSeconds,
      boundSeconds: API_BOUND,
      rules: RULES,
    });
    expect(outcome.budgetSeconds).toBeLessThanOrEqual(budgetSeconds);
    ({ trend, budgetSeconds } = outcome);
    if (outcome.regression) regressions.push(index);
  });
  return { trend, budgetSeconds, regressions };
}

/** A deterministic P99 around `seconds`, off by up to +-30 %. */
function noisy(seconds: number, count: number, seed = 7): number[] {
  let state = seed;
  return Array.from({ length: count }, () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return seconds * (0.7 + 0.6 * (state / 2 ** 31));
  });
}

describe("the budget ratchet", () => {
  it("tightens after the periods ran well below the budget, to a bucket over their highest P99 times the headroom", () => {
    // 20 ms x 1.5 is 30 ms: the 50 ms bucket.
    expect(run(Array(23).fill(0.02)).budgetSeconds).toBe(API_BOUND);
    expect(run(Array(24).fill(0.02)).budgetSeconds).toBe(0.05);
    expect(tightenedBudget(0.1, Array(24).fill(0.03), { bounds: BOUNDS, boundSeconds: API_BOUND, rules: RULES })).toBe(
      0.05,
    );
    expect(tightenedBudget(0.1, Array(24).fill(0.034), { bounds: BOUNDS, boundSeconds: API_BOUND, rules: RULES })).toBe(
      0.075,
    );
  });

  it("does not tighten while one period of the last ones ran at half the budget or more", () => {
    const periods = [...Array(23).fill(0.02), 0.06];
    expect(run(periods).budgetSeconds).toBe(API_BOUND);
    expect(run([...periods, ...Array(23).fill(0.02)]).budgetSeconds).toBe(API_BOUND);
    expect(run([...periods, ...Array(24).fill(0.02)]).budgetSeconds).toBe(0.05);
  });

  it("never goes under the floor, a tenth of the SLA bound rounded up to a bucket", () => {
    expect(run(Array(24).fill(0.0001)).budgetSeconds).toBe(0.01);
    expect(tightenedBudget(0.15, Array(24).fill(0.0001), { bounds: BOUNDS, boundSeconds: 0.15, rules: RULES })).toBe(
      0.015,
    );
  });

  it("skips periods with fewer requests than the minimum: a few slow ones neither tighten nor hold it", () => {
    expect(run(Array(48).fill(0.02), {}, 999).budgetSeconds).toBe(API_BOUND);
    const { trend } = run(Array(24).fill(0.02), {}, 999);
    expect(trend).toEqual(NEW_TREND);
    const half = run(Array(12).fill(0.02));
    const fewSlow = run([0.5], half, 999);
    expect(fewSlow.trend).toEqual(half.trend);
    expect(run(Array(12).fill(0.02), fewSlow).budgetSeconds).toBe(0.05);
  });

  it("does not loosen after bad periods, however long they last", () => {
    const healthy = run(Array(24).fill(0.02));
    expect(healthy.budgetSeconds).toBe(0.05);
    const after = run(Array(200).fill(0.5), healthy);
    expect(after.budgetSeconds).toBe(0.05);
  });

  it("tightens again, step by step, as the operation gets faster", () => {
    const first = run(Array(24).fill(0.02));
    expect(run(Array(24).fill(0.004), first).budgetSeconds).toBe(0.01);
  });
});

describe("the change-point check", () => {
  it("reports a step regression within a few periods, once, and never changes the budget for it", () => {
    const base = noisy(0.02, 48);
    const { budgetSeconds, trend } = run(base);
    expect(budgetSeconds).toBe(0.05);
    const doubled = run(noisy(0.04, 30, 11), { trend, budgetSeconds });
    expect(doubled.regressions.length).toBe(1);
    expect(doubled.regressions[0]).toBeLessThan(6);
    expect(doubled.budgetSeconds).toBe(0.05);
    expect(doubled.trend.regressed).toBe(true);

    const tenfold = run([0.2], { trend, budgetSeconds });
    expect(tenfold.regressions).toEqual([0]);
  });

  it("reports the regression with the P99 and the baseline it ran against", () => {
    const { trend, budgetSeconds } = run(Array(24).fill(0.02));
    const outcome = closePeriod(trend, period(0.5), { budgetSeconds, boundSeconds: API_BOUND, rules: RULES });
    expect(outcome.regression).toEqual({
      p99: histogramQuantile(0.99, period(0.5)),
      baselineSeconds: expect.closeTo(histogramQuantile(0.99, period(0.02)) ?? 0, 9),
      cusum: expect.any(Number),
    });
  });

  it("does not report noise of +-30 % around a steady P99, over a long run", () => {
    for (const seed of [1, 7, 42, 99, 2026]) {
      expect(run(noisy(0.02, 2_000, seed)).regressions).toEqual([]);
      expect(run(noisy(0.003, 2_000, seed)).regressions).toEqual([]);
    }
  });

  it("closes a regression once the P99s come back, and reports the next one", () => {
    const { trend, budgetSeconds } = run(Array(24).fill(0.02));
    const slow = run(Array(5).fill(0.2), { trend, budgetSeconds });
    expect(slow.regressions).toEqual([0]);
    let back = slow.trend;
    let recovered = 0;
    for (let index = 0; index < 10 && !recovered; index++) {
      const outcome = closePeriod(back, period(0.02), { budgetSeconds, boundSeconds: API_BOUND, rules: RULES });
      back = outcome.trend;
      if (outcome.recovered) recovered = index + 1;
    }
    expect(recovered).toBeGreaterThan(0);
    expect(recovered).toBeLessThanOrEqual(5);
    expect(run([0.2], { trend: back, budgetSeconds }).regressions).toEqual([0]);
  });
});
