import { Document } from "yaml";
import {
  BURN_ALERTS,
  type BurnAlert,
  type BurnCondition,
  burnAlertAnnotations,
  type Sla,
  selector,
  slowRatioThreshold,
  WINDOWS,
  type Window,
  windowMs,
} from "@/lib/observability/sla";

type RecordingRule = { record: string; expr: string; labels: Record<string, string> };
type AlertingRule = {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string };
};

export type RulesOptions = {
  /**
   * A factor on the burn alerts' windows (0.01 makes 1h into 36s), for tests; the recording rules keep the names of
   * the shipped windows. The symptom alerts keep their durations.
   */
  windowScale?: number;
};

/** The recording rule holding each SLA's share of requests slower than its bound over a window. */
export const slowRatioRecord = (window: Window): string => `sla:slow_ratio:rate${window}`;

const DURATION_UNITS = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
] as const;

/** A PromQL duration in the largest unit that divides it: the window itself at scale 1, `3s` for 5m at 0.01. */
function rangeOf(window: Window, scale: number): string {
  const ms = Math.round(windowMs(window, scale));
  if (ms < 1) throw new Error(`a window scale of ${scale} makes ${window} shorter than 1 ms`);
  const [unit, size] = DURATION_UNITS.find(([, size]) => ms % size === 0) ?? ["ms", 1];
  return `${ms / size}${unit}`;
}

function slowRatio(sla: Sla, window: Window, scale: number): RecordingRule {
  const le = { label: "le", op: "=", value: String(sla.boundSeconds) } as const;
  const range = rangeOf(window, scale);
  // Summed over every instance and label set: the SLA is the service's, not one process's.
  const within = `sum(rate(${sla.metric}_bucket${selector(sla, le)}[${range}]))`;
  const all = `sum(rate(${sla.metric}_count${selector(sla)}[${range}]))`;
  return { record: slowRatioRecord(window), expr: `1 - ${within} / ${all}`, labels: { sla: sla.key } };
}

function burnAlert(sla: Sla, burn: BurnAlert): AlertingRule {
  const { alert, severity, conditions } = burn;
  const ratio = (window: Window) => `${slowRatioRecord(window)}{sla="${sla.key}"}`;
  const holds = (condition: BurnCondition) => {
    const threshold = slowRatioThreshold(sla, condition);
    return `(${ratio(condition.long)} > ${threshold} and ${ratio(condition.short)} > ${threshold})`;
  };
  return {
    alert,
    expr: conditions.map(holds).join("\nor\n"),
    labels: { severity, sla: sla.key },
    annotations: burnAlertAnnotations(sla, burn),
  };
}

function symptoms(slas: Sla[]): AlertingRule[] {
  const tracking = slas.find((sla) => sla.key === "tracking");
  if (!tracking) throw new Error("the SLA table has no tracking SLA");
  return [
    {
      alert: "GreenLedgerChainLag",
      expr: "max(gl_chain_lag_blocks) > 10",
      for: "10m",
      labels: { severity: "page" },
      annotations: {
        summary: "The indexer is {{ $value }} blocks behind the chain's head",
        description: "Over 10 blocks behind for 10 minutes: new batches, sales and transfers are not confirmed.",
      },
    },
    {
      alert: "GreenLedgerChainIndexerStalled",
      // Web processes export 0; the worker holding the lease exports the time of its last good poll.
      expr: "time() - max(gl_chain_indexer_polled_timestamp_seconds) > 300",
      labels: { severity: "page" },
      annotations: {
        summary: "No indexer has read the chain for {{ $value | humanizeDuration }}",
        description:
          "No worker holds the lease, or its indexer fails at every step (see its log): gl_chain_lag_blocks is stale.",
      },
    },
    {
      alert: "GreenLedgerHttp5xx",
      expr: 'sum(rate(gl_errors_total{kind="http_5xx"}[5m])) / sum(rate(gl_http_request_duration_seconds_count[5m])) > 0.01',
      // Phones retry a failed write from their offline outbox: only a lasting rate is worth a page.
      for: "10m",
      labels: { severity: "page" },
      annotations: {
        summary: "{{ $value | humanizePercentage }} of answers are 5xx",
        description: "Over 1 % of answers are server errors for 10 minutes; offline writes are retried, reads fail.",
      },
    },
    {
      alert: "GreenLedgerDatabaseUnavailable",
      expr: 'sum(rate(gl_errors_total{kind="database_unavailable"}[5m])) > 0',
      for: "2m",
      labels: { severity: "page" },
      annotations: {
        summary: "Requests are answered 503: the database is unavailable",
        description:
          "Requests that needed PostgreSQL were refused for 2 minutes (gl_errors_total{kind=database_unavailable}).",
      },
    },
    {
      alert: "GreenLedgerRedisCircuitOpen",
      expr: "gl_redis_circuit_open == 1",
      for: "5m",
      labels: { severity: "ticket" },
      annotations: {
        summary: "{{ $labels.instance }}: the Redis circuit has been open for 5 minutes",
        description: "The cache answers from memory and the database; purges and shared rate limits are degraded.",
      },
    },
    {
      alert: "GreenLedgerDatabasePoolWaiting",
      expr: 'gl_db_pool_connections{state="waiting"} > 0',
      for: "5m",
      labels: { severity: "ticket" },
      annotations: {
        summary: "{{ $labels.instance }}: requests wait for a {{ $labels.pool }} database connection",
        description: "The pool has been exhausted for 5 minutes: raise DB_POOL_*_MAX within max_connections, or scale.",
      },
    },
    {
      alert: "GreenLedgerLiveDeliverySlow",
      expr: `histogram_quantile(0.99, sum by (le) (rate(${tracking.metric}_bucket[5m]))) > ${tracking.boundSeconds}`,
      for: "10m",
      labels: { severity: "ticket" },
      annotations: {
        summary: "Live tracking P99 delivery is {{ $value | humanizeDuration }}",
        description: `Positions reach watchers' streams slower than ${tracking.boundSeconds} s at P99 for 10 minutes.`,
      },
    },
    {
      alert: "GreenLedgerUploadsNotReady",
      expr: "max(gl_attachment_oldest_waiting_seconds) > 600",
      for: "5m",
      labels: { severity: "ticket" },
      annotations: {
        summary: "An attachment has waited {{ $value | humanizeDuration }} to be ready",
        description: "Received uploads are not processed: check the workers' attachment jobs, the store and clamd.",
      },
    },
  ];
}

/** deploy/prometheus/rules.yml: recording and alerting rules for each SLA, and alerts on symptoms. */
export function prometheusRules(slas: Sla[], { windowScale = 1 }: RulesOptions = {}): string {
  const document = new Document({
    groups: [
      {
        name: "greenledger-sla-ratios",
        rules: slas.flatMap((sla) => WINDOWS.map((window) => slowRatio(sla, window, windowScale))),
      },
      {
        name: "greenledger-sla-burn",
        rules: slas.flatMap((sla) => BURN_ALERTS.map((alert) => burnAlert(sla, alert))),
      },
      { name: "greenledger-symptoms", rules: symptoms(slas) },
    ],
  });
  document.commentBefore =
    " Generated from lib/observability/sla.ts by scripts/prometheus-rules.ts (SLA_BOUNDS_MS sets the bounds): do\n" +
    " not edit. Tested by rules-test.yml (promtool test rules), written for the default bounds." +
    (windowScale === 1 ? "" : `\n Burn windows scaled by ${windowScale}: each record still names its shipped window.`);
  return document.toString({ lineWidth: 0 });
}
