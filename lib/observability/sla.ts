import type { env } from "@/lib/env.mjs";

export type SlaKey = keyof typeof env.slaBounds;

/** A PromQL label matcher; as in PromQL, a regular expression must match the whole value. */
export type LabelMatcher = { label: string; op: "=" | "=~" | "!~"; value: string };

export type Sla = {
  key: SlaKey;
  name: string;
  /** What it measures, in words. */
  description: string;
  boundSeconds: number;
  /** Share of requests that may be slower than the bound: 0.01 is "99 % within the bound". */
  budget: number;
  /** A histogram the app exports, in seconds. */
  metric: string;
  /** Selects the SLA's requests among the histogram's series. */
  matchers: LabelMatcher[];
};

const HTTP = "gl_http_request_duration_seconds";
const UPLOAD_ROUTES = "/api/uploads|/api/uploads/:id";

const SLAS: Record<SlaKey, Omit<Sla, "key" | "boundSeconds" | "budget">> = {
  verification: {
    name: "Verification",
    description: "a batch's verification, as JSON, as a page or through its GS1 Digital Link",
    metric: HTTP,
    matchers: [{ label: "route", op: "=~", value: "/api/verify/:id|/verify/:id|/01/:gtin/10/:lot" }],
  },
  search: {
    name: "Search",
    description: "a marketplace search",
    metric: HTTP,
    matchers: [
      { label: "route", op: "=", value: "/api/crop-batches/search" },
      { label: "method", op: "=", value: "POST" },
    ],
  },
  tracking: {
    name: "Live tracking",
    description: "a position, from its publish to its write to a watcher's stream",
    metric: "gl_live_delivery_seconds",
    matchers: [],
  },
  chain_sync: {
    name: "Chain sync",
    description: "a chain event, from its block's timestamp to its row in PostgreSQL",
    metric: "gl_chain_sync_seconds",
    matchers: [],
  },
  upload: {
    name: "Upload",
    description: "an upload request (tus POST or PATCH)",
    metric: HTTP,
    matchers: [
      { label: "route", op: "=~", value: UPLOAD_ROUTES },
      { label: "method", op: "=~", value: "POST|PATCH" },
    ],
  },
  // Every other API call; stored files are downloads whose time is the client's bandwidth, and the operator's
  // probes are no user's request.
  api: {
    name: "API",
    description: "any other API call",
    metric: HTTP,
    matchers: [
      { label: "route", op: "=~", value: "/api/.+" },
      {
        label: "route",
        op: "!~",
        value: `/api/verify/:id|/api/crop-batches/search|${UPLOAD_ROUTES}|/api/files/:sha256|/api/metrics|/api/health`,
      },
    ],
  },
};

/** 99 % of each SLA's requests within its bound. */
const BUDGET = 0.01;

/** The SLA table, with each bound from `env.slaBounds` (which checks that it is a bucket of the histogram). */
export function slaTable(boundsSeconds: Record<SlaKey, number>): Sla[] {
  return (Object.keys(SLAS) as SlaKey[]).map((key) => ({
    key,
    ...SLAS[key],
    boundSeconds: boundsSeconds[key],
    budget: BUDGET,
  }));
}

/** `{route=~"...",le="0.15"}`: the SLA's selector, with more matchers if given; empty without any. */
export function selector(sla: Sla, ...more: LabelMatcher[]): string {
  const matchers = [...sla.matchers, ...more];
  if (matchers.length === 0) return "";
  return `{${matchers.map(({ label, op, value }) => `${label}${op}${JSON.stringify(value)}`).join(",")}}`;
}

/** Whether a series with these labels is one of the SLA's, as Prometheus would match it. */
export function matchesLabels(sla: Sla, labels: Record<string, string>): boolean {
  return sla.matchers.every(({ label, op, value }) => {
    const actual = labels[label] ?? "";
    if (op === "=") return actual === value;
    return new RegExp(`^(?:${value})$`).test(actual) === (op === "=~");
  });
}

/** The windows the burn alerts read, as PromQL durations, shortest first. */
export const WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] as const;
export type Window = (typeof WINDOWS)[number];

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A window's length in milliseconds, times `scale` (0.01 makes 1 h into 36 s, for tests). */
export const windowMs = (window: Window, scale = 1): number =>
  Number.parseInt(window, 10) * UNIT_MS[window.slice(-1) as keyof typeof UNIT_MS] * scale;

/** Fires when both windows burn the budget faster than `burnRate` (1: the whole budget spent in exactly 30 days). */
export type BurnCondition = { long: Window; short: Window; burnRate: number };

export type BurnAlert = {
  alert: "GreenLedgerSLABurnFast" | "GreenLedgerSLABurnSlow";
  severity: "page" | "ticket";
  conditions: BurnCondition[];
};

/**
 * Multiwindow, multi-burn-rate alerts (Google SRE workbook, "Alerting on SLOs"): 14.4x for 1 h spends 2 % of a
 * 30-day budget, 6x for 6 h 5 %, 3x for 1 d 10 %, 1x for 3 d 10 %; the short window ends the alert soon after the
 * burn stops.
 */
export const BURN_ALERTS: BurnAlert[] = [
  {
    alert: "GreenLedgerSLABurnFast",
    severity: "page",
    conditions: [
      { long: "1h", short: "5m", burnRate: 14.4 },
      { long: "6h", short: "30m", burnRate: 6 },
    ],
  },
  {
    alert: "GreenLedgerSLABurnSlow",
    severity: "ticket",
    conditions: [
      { long: "1d", short: "2h", burnRate: 3 },
      { long: "3d", short: "6h", burnRate: 1 },
    ],
  },
];

const percent = (ratio: number) => `${Number((ratio * 100).toPrecision(6))} %`;

/** What an SLA's burn alert says, in the Prometheus rules and in the app's own alerts alike. */
export function burnAlertAnnotations(sla: Sla, { conditions }: BurnAlert): { summary: string; description: string } {
  const when = conditions.map(({ burnRate, long, short }) => `${burnRate}x over ${long} and ${short}`).join(", or ");
  return {
    summary: `${sla.name} SLA (${percent(1 - sla.budget)} within ${sla.boundSeconds} s) is burning its error budget`,
    description: `${sla.name}: ${sla.description}. Fires when the share slower than the bound burns the budget at ${when}.`,
  };
}

/** The share of requests slower than the bound over a window above which a condition holds. */
export function slowRatioThreshold(sla: Sla, condition: BurnCondition): number {
  return Number((condition.burnRate * sla.budget).toPrecision(6));
}

/** Requests within the bound (the histogram's bucket at the bound) and all requests, over one window. */
export type WindowCounts = { good: number; total: number };

/** Whether both of a condition's windows burn faster than its rate, given the SLA's counts over each window. */
export function conditionHolds(sla: Sla, condition: BurnCondition, counts: Record<Window, WindowCounts>): boolean {
  // No requests in a window is no evidence: PromQL's 0/0 is NaN, and no comparison with NaN holds.
  const slowRatio = ({ good, total }: WindowCounts) => (total > 0 ? 1 - good / total : Number.NaN);
  return (
    slowRatio(counts[condition.long]) > slowRatioThreshold(sla, condition) &&
    slowRatio(counts[condition.short]) > slowRatioThreshold(sla, condition)
  );
}

/** The alerts that fire for an SLA given its counts over each window: what the Prometheus rules decide. */
export function firingBurnAlerts(sla: Sla, counts: Record<Window, WindowCounts>): BurnAlert[] {
  return BURN_ALERTS.filter(({ conditions }) => conditions.some((condition) => conditionHolds(sla, condition, counts)));
}
