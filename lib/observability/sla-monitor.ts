import os from "node:os";
import { env } from "@/lib/env.mjs";
import { log } from "@/lib/log";
import { histogramQuantile } from "@/lib/observability/histogram-quantile";
import { postAlert } from "@/lib/observability/post-alert";
import { type Buckets, bucketsSince, type Reading, readRegistry } from "@/lib/observability/read-registry";
import { runPeriodically } from "@/lib/observability/run-periodically";
import {
  BURN_ALERTS,
  type BurnAlert,
  burnAlertAnnotations,
  conditionHolds,
  firingBurnAlerts,
  type Sla,
  type SlaKey,
  slaTable,
  WINDOWS,
  type Window,
  type WindowCounts,
  windowMs,
} from "@/lib/observability/sla";
import { SnapshotRing } from "@/lib/observability/snapshot-ring";
import { tracingState } from "@/lib/observability/tracing/state.mjs";

/** The window of the quantiles and the error rate, and the one window read from the full-resolution ring. */
const RECENT: Window = "5m";
const RESOLVED_KEPT = 50;
// The longer windows read a snapshot a minute (scaled), as often as Prometheus evaluates rules by default: 3 d is
// 4,320 of them, a few MB.
const HISTORY_SPACING_MS = 60_000;

export type WindowStatus = {
  window: Window;
  /** The window's length after SLA_MONITOR_WINDOW_SCALE. */
  seconds: number;
  requests: number;
  slow: number;
  slowRatio: number | null;
  /** The slow ratio over the budget: 1 spends the whole budget in exactly 30 days. */
  burnRate: number | null;
};

export type ConditionStatus = {
  alert: BurnAlert["alert"];
  severity: BurnAlert["severity"];
  long: Window;
  short: Window;
  /** The burn rate both windows must exceed. */
  burnRate: number;
  holds: boolean;
};

export type SlaStatus = {
  key: SlaKey;
  name: string;
  description: string;
  boundSeconds: number;
  budget: number;
  /** Requests over the recent window, and their quantiles in seconds (null without requests). */
  requests: number;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  windows: Record<Window, WindowStatus>;
  conditions: ConditionStatus[];
};

export type AlertRecord = {
  alert: BurnAlert["alert"];
  severity: BurnAlert["severity"];
  sla: SlaKey;
  slaName: string;
  startsAt: string;
  endsAt: string | null;
  /** By window, when the alert opened. */
  burnRates: Record<Window, number | null>;
};

export type SlaReport = {
  /** The process whose histograms these are: each instance evaluates its own. */
  instance: string;
  startedAt: string;
  evaluatedAt: string;
  intervalSeconds: number;
  windowScale: number;
  slas: SlaStatus[];
  errors: { window: Window; seconds: number; http5xx: number; requests: number; ratio: number | null };
  chainLagBlocks: number | null;
  openAlerts: AlertRecord[];
  /** Newest first, the last 50. */
  resolvedAlerts: AlertRecord[];
};

export type SlaMonitorOptions = {
  slas: Sla[];
  intervalSeconds: number;
  /** 0.01 makes 1 h into 36 s: for tests and for trying the alerts out. */
  windowScale: number;
  webhookUrl?: string;
  /** The operations page, sent with each alert. */
  pageUrl: string;
  instance: string;
  read: () => Promise<Reading>;
  /** Called when an alert starts firing: the tracing samples more, so the slow path gets traced. */
  onBreach?: () => void;
  now?: () => number;
};

export type SlaMonitor = {
  /** Reads the registry, updates the windows and the alerts, and returns the new report. */
  evaluate(): Promise<SlaReport>;
  report(): SlaReport | undefined;
  /** Settles once every alert change so far has been posted (or has failed to be). */
  delivered(): Promise<void>;
};

const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);

/** A record of one value per window. */
const byWindow = <T>(value: (window: Window) => T) =>
  Object.fromEntries(WINDOWS.map((window) => [window, value(window)])) as Record<Window, T>;

type Evaluation = {
  reading: Reading;
  /** The reading one recent window ago. */
  before: Reading;
  counts: WindowCounts[];
  /** Each SLA's counts one window ago, by window. */
  since: Record<Window, WindowCounts[]>;
  at: string;
};

const NO_BUCKETS: Buckets = { bounds: [], counts: [] };
const NO_COUNTS: WindowCounts = { good: 0, total: 0 };

function goodAndTotal({ bounds, counts }: Buckets, boundSeconds: number): WindowCounts {
  return { good: counts[bounds.indexOf(boundSeconds)] ?? 0, total: counts.at(-1) ?? 0 };
}

/**
 * The SLA table's burn alerts on this process's own histograms. Each window's counts are the difference between the
 * latest reading and the one a window earlier; while the process is younger than a window, the first reading stands
 * in for it, which gives the ratio Prometheus's rate() would (it extrapolates both counts alike).
 */
export function createSlaMonitor(options: SlaMonitorOptions): SlaMonitor {
  const { slas, intervalSeconds, windowScale, webhookUrl, pageUrl, instance, read, onBreach, now = Date.now } = options;
  const lengths = byWindow((window) => windowMs(window, windowScale));
  const longest = Math.max(...Object.values(lengths));
  const recent = new SnapshotRing<Reading>(Math.ceil(lengths[RECENT] / (intervalSeconds * 1000)) + 2);
  const spacing = HISTORY_SPACING_MS * windowScale;
  const history = new SnapshotRing<WindowCounts[]>(Math.ceil(longest / spacing) + 2, spacing);
  const startedAt = new Date(now()).toISOString();
  const open = new Map<string, AlertRecord>();
  const resolved: AlertRecord[] = [];
  let posting = Promise.resolve();
  let latest: SlaReport | undefined;

  const countsOf = (reading: Reading) =>
    slas.map((sla, index) => goodAndTotal(reading.slas[index] ?? NO_BUCKETS, sla.boundSeconds));

  function announce(sla: Sla, burn: BurnAlert, record: AlertRecord, burnRates: Record<Window, number | null>): void {
    const status = record.endsAt ? "resolved" : "firing";
    const fields = {
      alert: burn.alert,
      sla: sla.key,
      severity: burn.severity,
      boundSeconds: sla.boundSeconds,
      burnRates,
    };
    const message = `SLA burn alert ${status}: ${sla.name}`;
    if (burn.severity === "page") log.error(fields, message);
    else log.warn(fields, message);
    if (!webhookUrl) return;
    const rates = WINDOWS.map((window) => `${window} ${burnRates[window]?.toPrecision(3) ?? "-"}x`).join(", ");
    const change = {
      status,
      labels: { alertname: burn.alert, sla: sla.key, severity: burn.severity, instance },
      annotations: { ...burnAlertAnnotations(sla, burn), burn_rates: rates },
      startsAt: new Date(record.startsAt),
      endsAt: record.endsAt ? new Date(record.endsAt) : null,
      url: pageUrl,
    } as const;
    // One at a time, so a receiver never sees an alert resolved before it saw it fire.
    posting = posting.then(() => postAlert(webhookUrl, change));
  }

  function updateAlerts(
    sla: Sla,
    counts: Record<Window, WindowCounts>,
    burnRates: Record<Window, number | null>,
    at: string,
  ): void {
    const firing = new Set(firingBurnAlerts(sla, counts).map(({ alert }) => alert));
    for (const burn of BURN_ALERTS) {
      const id = `${burn.alert}/${sla.key}`;
      const record = open.get(id);
      if (firing.has(burn.alert) && !record) {
        const { alert, severity } = burn;
        const opened = { alert, severity, sla: sla.key, slaName: sla.name, startsAt: at, endsAt: null, burnRates };
        open.set(id, opened);
        onBreach?.();
        announce(sla, burn, opened, burnRates);
      } else if (!firing.has(burn.alert) && record) {
        open.delete(id);
        const closed = { ...record, endsAt: at };
        resolved.unshift(closed);
        resolved.splice(RESOLVED_KEPT);
        announce(sla, burn, closed, burnRates);
      }
    }
  }

  /** The SLA at `index`: its counts over each window, its alerts updated, its recent quantiles. */
  function status(sla: Sla, index: number, evaluation: Evaluation): SlaStatus {
    const { reading, before, since, at } = evaluation;
    const current = evaluation.counts[index] ?? NO_COUNTS;
    const counts = byWindow((window) => {
      const then = since[window][index] ?? NO_COUNTS;
      return { good: current.good - then.good, total: current.total - then.total };
    });
    const windows = byWindow((window): WindowStatus => {
      const { good, total } = counts[window];
      const slowRatio = ratio(total - good, total);
      const burnRate = slowRatio === null ? null : slowRatio / sla.budget;
      return { window, seconds: lengths[window] / 1000, requests: total, slow: total - good, slowRatio, burnRate };
    });
    updateAlerts(
      sla,
      counts,
      byWindow((window) => windows[window].burnRate),
      at,
    );
    const buckets = bucketsSince(reading.slas[index] ?? NO_BUCKETS, before.slas[index] ?? NO_BUCKETS);
    return {
      key: sla.key,
      name: sla.name,
      description: sla.description,
      boundSeconds: sla.boundSeconds,
      budget: sla.budget,
      requests: counts[RECENT].total,
      p50: histogramQuantile(0.5, buckets),
      p99: histogramQuantile(0.99, buckets),
      p999: histogramQuantile(0.999, buckets),
      windows,
      conditions: BURN_ALERTS.flatMap(({ alert, severity, conditions }) =>
        conditions.map((condition) => ({
          alert,
          severity,
          ...condition,
          holds: conditionHolds(sla, condition, counts),
        })),
      ),
    };
  }

  return {
    async evaluate() {
      const reading = await read();
      const at = now();
      const evaluatedAt = new Date(at).toISOString();
      const counts = countsOf(reading);
      recent.push(at, reading);
      history.push(at, counts);
      const before = recent.atOrBefore(at - lengths[RECENT]) ?? reading;
      const since = byWindow((window) =>
        window === RECENT ? countsOf(before) : (history.atOrBefore(at - lengths[window]) ?? counts),
      );
      const requests = reading.httpRequests - before.httpRequests;
      const http5xx = reading.http5xx - before.http5xx;
      latest = {
        instance,
        startedAt,
        evaluatedAt,
        intervalSeconds,
        windowScale,
        slas: slas.map((sla, index) => status(sla, index, { reading, before, counts, since, at: evaluatedAt })),
        errors: { window: RECENT, seconds: lengths[RECENT] / 1000, http5xx, requests, ratio: ratio(http5xx, requests) },
        chainLagBlocks: reading.chainLagBlocks,
        openAlerts: [...open.values()],
        resolvedAlerts: [...resolved],
      };
      return latest;
    },
    report: () => latest,
    delivered: () => posting,
  };
}

type Running = { monitor: SlaMonitor; stop(): Promise<void> };

// server.ts starts the monitor; Next's bundle (the operations page and its API) reads it: one per process.
const key = Symbol.for("greenledger.sla-monitor");
const holder = globalThis as typeof globalThis & { [key]?: Running };

/** Evaluates every SLA_MONITOR_INTERVAL_SECONDS from now on (at once first); `overrides` are for tests. */
export function startSlaMonitor(overrides: Partial<SlaMonitorOptions> = {}): { stop(): Promise<void> } {
  const slas = overrides.slas ?? slaTable(env.slaBounds);
  const options: SlaMonitorOptions = {
    slas,
    intervalSeconds: env.SLA_MONITOR_INTERVAL_SECONDS,
    windowScale: env.SLA_MONITOR_WINDOW_SCALE,
    webhookUrl: env.ALERT_WEBHOOK_URL,
    pageUrl: new URL("/operations", env.PUBLIC_BASE_URL).href,
    instance: `${os.hostname()}:${env.PORT}`,
    // A web process runs no indexer: its lag gauge is always 0.
    read: () => readRegistry(slas, { chainLag: env.ROLE !== "web" }),
    onBreach: () => tracingState()?.sampler.boost(env.TRACE_BOOST_SECONDS),
    ...overrides,
  };
  const monitor = createSlaMonitor(options);
  const periodic = runPeriodically(
    () => monitor.evaluate(),
    options.intervalSeconds * 1000,
    "SLA monitor evaluation failed",
  );
  const running: Running = {
    monitor,
    async stop() {
      await periodic.stop();
      await monitor.delivered();
      if (holder[key] === running) delete holder[key];
    },
  };
  holder[key] = running;
  return running;
}

/** This process's latest SLA report, or undefined where no monitor runs (a worker, or `next dev` without server.ts). */
export function slaReport(): SlaReport | undefined {
  return holder[key]?.monitor.report();
}
