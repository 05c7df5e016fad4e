import { histogramQuantile } from "@/lib/observability/histogram-quantile";
import type { Buckets } from "@/lib/observability/read-registry";

export type RatchetRules = {
  /** A period with fewer requests is skipped: the P99 of a handful of requests is noise. */
  minRequests: number;
  /** How many periods (with enough requests) in a row must run well below the budget before it tightens. */
  periods: number;
  /** The new budget over the highest P99 of those periods, before it is rounded up to a bucket. */
  headroom: number;
};

/** A period runs "well below" its budget under this share of it. */
const HEALTHY_SHARE = 0.5;
// A budget never goes under a tenth of the SLA bound: below that, a budget would hold the operation to a garbage
// collection pause, not to its code.
const FLOOR_SHARE = 0.1;
// A one-sided CUSUM on ln(P99): each period adds how far it is above the baseline, less an allowance. P99s that
// wander +-30 % read up to ~+40 % from the buckets against a median baseline: ln 1.4 lets that never add up (no
// report in 200,000 simulated periods), and still reports a doubling in 3 periods on average, a tenfold step at once.
const ALLOWANCE = Math.log(1.4);
const THRESHOLD = 1;
/** Periods with enough requests needed before the CUSUM has a baseline to run against. */
const BASELINE_PERIODS = 3;

export type Trend = {
  /** The P99 (seconds) of each of the last `periods` periods with enough requests, oldest first. */
  p99s: number[];
  cusum: number;
  /** ln(P99) the CUSUM runs against: the median of the periods kept, held while the CUSUM is above 0. */
  baseline: number | null;
  /** A regression was reported and the P99s have not come back to the baseline since. */
  regressed: boolean;
};

export const NEW_TREND: Trend = { p99s: [], cusum: 0, baseline: null, regressed: false };

export type Regression = { p99: number; baselineSeconds: number; cusum: number };

export type PeriodOutcome = {
  trend: Trend;
  /** The budget after this period: the same or tighter, never looser. */
  budgetSeconds: number;
  /** Set in the period the CUSUM crosses its threshold. */
  regression: Regression | null;
  /** The P99s came back to the baseline after a regression. */
  recovered: boolean;
};

/** The smallest finite bucket bound at or above `seconds` (0.1 x 0.1 is a hair over the 0.01 bucket in floating point). */
function bucketAtOrAbove(seconds: number, bounds: number[]): number | undefined {
  return bounds.find((bound) => Number.isFinite(bound) && bound >= seconds * (1 - 1e-9));
}

/**
 * The budget after `p99s` (the last periods with enough requests): when there are `rules.periods` of them and every
 * one ran under half the budget, the smallest bucket at or above their highest times the headroom, but never under
 * the floor (a tenth of the SLA bound, rounded up to a bucket) and never above the budget.
 */
export function tightenedBudget(
  budgetSeconds: number,
  p99s: number[],
  { bounds, boundSeconds, rules }: { bounds: number[]; boundSeconds: number; rules: RatchetRules },
): number {
  if (p99s.length < rules.periods || p99s.some((p99) => p99 >= budgetSeconds * HEALTHY_SHARE)) return budgetSeconds;
  const target = bucketAtOrAbove(Math.max(...p99s) * rules.headroom, bounds) ?? budgetSeconds;
  const floor = bucketAtOrAbove(boundSeconds * FLOOR_SHARE, bounds) ?? boundSeconds;
  return Math.min(budgetSeconds, Math.max(target, floor));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/**
 * One evaluation period of an operation: `period` holds the observations since the last one. The budget can only
 * tighten here; a regression is reported once, when the CUSUM crosses its threshold, and never changes the budget.
 */
export function closePeriod(
  trend: Trend,
  period: Buckets,
  { budgetSeconds, boundSeconds, rules }: { budgetSeconds: number; boundSeconds: number; rules: RatchetRules },
): PeriodOutcome {
  const p99 = histogramQuantile(0.99, period);
  if ((period.counts.at(-1) ?? 0) < rules.minRequests || p99 === null) {
    return { trend, budgetSeconds, regression: null, recovered: false };
  }
  const baseline =
    trend.cusum > 0 ? trend.baseline : trend.p99s.length >= BASELINE_PERIODS ? median(trend.p99s.map(Math.log)) : null;
  const sum = baseline === null ? 0 : Math.max(0, trend.cusum + Math.log(p99) - baseline - ALLOWANCE);
  const crossed = !trend.regressed && sum > THRESHOLD;
  const regressed = crossed || (trend.regressed && sum > 0);
  const p99s = [...trend.p99s, p99].slice(-rules.periods);
  return {
    // Capped once reported, so the CUSUM drains within a few periods of the P99s coming back.
    trend: { p99s, cusum: regressed ? Math.min(sum, THRESHOLD) : sum, baseline, regressed },
    budgetSeconds: tightenedBudget(budgetSeconds, p99s, { bounds: period.bounds, boundSeconds, rules }),
    regression: crossed && baseline !== null ? { p99, baselineSeconds: Math.exp(baseline), cusum: sum } : null,
    recovered: trend.regressed && !regressed,
  };
}
