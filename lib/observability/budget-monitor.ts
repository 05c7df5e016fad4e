import os from "node:os";
import { env } from "@/lib/env.mjs";
import { log } from "@/lib/log";
import {
  closePeriod,
  NEW_TREND,
  type RatchetRules,
  type Regression,
  type Trend,
} from "@/lib/observability/budget-ratchet";
import { loadPerformanceBudget } from "@/lib/observability/load-performance-budget";
import { postAlert } from "@/lib/observability/post-alert";
import { type Buckets, bucketsSince, type Reading, readRegistry } from "@/lib/observability/read-registry";
import { recordLatencyRegression } from "@/lib/observability/record-latency-regression";
import { runPeriodically } from "@/lib/observability/run-periodically";
import { type Sla, type SlaKey, slaTable } from "@/lib/observability/sla";
import { tightenPerformanceBudget } from "@/lib/observability/tighten-performance-budget";

const ALERT = "GreenLedgerLatencyRegression";
const NO_BUCKETS: Buckets = { bounds: [], counts: [] };

export type BudgetMonitorOptions = {
  slas: Sla[];
  rules: RatchetRules;
  /** After SLA_MONITOR_WINDOW_SCALE. */
  periodSeconds: number;
  webhookUrl?: string;
  pageUrl: string;
  instance: string;
  read: () => Promise<Reading>;
};

export type BudgetMonitor = {
  /** Ends the period begun by the last call: each operation's budget may tighten, a regression is reported. */
  closePeriod(): Promise<void>;
  /** This instance's trend of each operation it has seen a period of. */
  trends(): ReadonlyMap<SlaKey, Trend>;
  /** Settles once every regression alert so far has been posted (or has failed to be). */
  delivered(): Promise<void>;
};

const ms = (seconds: number) => `${Number((seconds * 1000).toPrecision(3))} ms`;

/**
 * Each SLA operation's performance budget on this process's own histograms, one period at a time. The budget lives
 * in the database, shared by every instance; the trends (last P99s, the CUSUM) are this process's, and start over
 * when an admin resets the budget, which accepts the current latency as the new normal.
 */
export function createBudgetMonitor(options: BudgetMonitorOptions): BudgetMonitor {
  const { slas, rules, webhookUrl, pageUrl, instance, read } = options;
  const trends = new Map<SlaKey, Trend>();
  /** The budget each operation had after this process's last period: a higher one since means a reset. */
  const known = new Map<SlaKey, number>();
  const open = new Map<SlaKey, { startsAt: string; annotations: Record<string, string> }>();
  let previous: Reading | undefined;
  let posting = Promise.resolve();

  function post(sla: Sla, status: "firing" | "resolved", endsAt: string | null): void {
    const alert = open.get(sla.key);
    if (!webhookUrl || !alert) return;
    const change = {
      status,
      labels: { alertname: ALERT, sla: sla.key, severity: "ticket", instance },
      annotations: alert.annotations,
      startsAt: new Date(alert.startsAt),
      endsAt: endsAt ? new Date(endsAt) : null,
      url: pageUrl,
    } as const;
    posting = posting.then(() => postAlert(webhookUrl, change));
  }

  async function regressed(sla: Sla, regression: Regression, budgetSeconds: number, p99s: number[]): Promise<void> {
    const note = `P99 ${ms(regression.p99)} against a baseline of ${ms(regression.baselineSeconds)}`;
    log.warn({ alert: ALERT, sla: sla.key, severity: "ticket", budgetSeconds, ...regression }, `${sla.name}: ${note}`);
    open.set(sla.key, {
      startsAt: new Date().toISOString(),
      annotations: {
        summary: `${sla.name} latency regressed: ${note}`,
        description: `${sla.name}: ${sla.description}. The change-point check on the period P99s crossed its threshold; the budget (${ms(budgetSeconds)}) stays.`,
      },
    });
    post(sla, "firing", null);
    await recordLatencyRegression({ key: sla.key, budgetSeconds, p99s, note, actor: instance });
  }

  function recovered(sla: Sla): void {
    if (!open.has(sla.key)) return;
    log.info({ alert: ALERT, sla: sla.key }, `${sla.name}: latency back to its baseline`);
    post(sla, "resolved", new Date().toISOString());
    open.delete(sla.key);
  }

  async function evaluate(sla: Sla, period: Buckets): Promise<void> {
    const budgetSeconds = await loadPerformanceBudget(sla.key, sla.boundSeconds);
    let trend = trends.get(sla.key) ?? NEW_TREND;
    if (budgetSeconds > (known.get(sla.key) ?? budgetSeconds)) {
      recovered(sla);
      trend = NEW_TREND;
    }
    const outcome = closePeriod(trend, period, { budgetSeconds, boundSeconds: sla.boundSeconds, rules });
    trends.set(sla.key, outcome.trend);
    known.set(sla.key, budgetSeconds);
    const { p99s } = outcome.trend;
    if (outcome.budgetSeconds < budgetSeconds) {
      const note = `${p99s.length} periods under half of ${ms(budgetSeconds)}: the highest P99 ${ms(Math.max(...p99s))} x ${rules.headroom}`;
      const toSeconds = outcome.budgetSeconds;
      const changed = await tightenPerformanceBudget({ key: sla.key, toSeconds, p99s, note, actor: instance });
      if (changed) log.info({ sla: sla.key, fromSeconds: budgetSeconds, toSeconds }, `${sla.name} budget tightened`);
      known.set(sla.key, toSeconds);
    }
    if (outcome.regression) await regressed(sla, outcome.regression, outcome.budgetSeconds, p99s);
    if (outcome.recovered) recovered(sla);
  }

  return {
    async closePeriod() {
      const reading = await read();
      const before = previous;
      previous = reading;
      if (!before) return;
      for (const [index, sla] of slas.entries()) {
        await evaluate(sla, bucketsSince(reading.slas[index] ?? NO_BUCKETS, before.slas[index] ?? NO_BUCKETS));
      }
    },
    trends: () => trends,
    delivered: () => posting,
  };
}

type Running = { monitor: BudgetMonitor; options: BudgetMonitorOptions; stop(): Promise<void> };

// server.ts starts it; Next's bundle (the operations page and its API) reads its trends: one per process.
const key = Symbol.for("greenledger.budget-monitor");
const holder = globalThis as typeof globalThis & { [key]?: Running };

/** Begins the first period now and closes one every period from then on; `overrides` are for tests. */
export function startBudgetMonitor(overrides: Partial<BudgetMonitorOptions> = {}): { stop(): Promise<void> } {
  const slas = overrides.slas ?? slaTable(env.slaBounds);
  const options: BudgetMonitorOptions = {
    slas,
    rules: {
      minRequests: env.PERFORMANCE_BUDGET_MIN_REQUESTS,
      periods: env.PERFORMANCE_BUDGET_PERIODS,
      headroom: env.PERFORMANCE_BUDGET_HEADROOM,
    },
    periodSeconds: env.PERFORMANCE_BUDGET_PERIOD_SECONDS * env.SLA_MONITOR_WINDOW_SCALE,
    webhookUrl: env.ALERT_WEBHOOK_URL,
    pageUrl: new URL("/operations", env.PUBLIC_BASE_URL).href,
    instance: `${os.hostname()}:${env.PORT}`,
    read: () => readRegistry(slas, { chainLag: false }),
    ...overrides,
  };
  const monitor = createBudgetMonitor(options);
  const periodic = runPeriodically(
    () => monitor.closePeriod(),
    options.periodSeconds * 1000,
    "performance budget evaluation failed",
  );
  const running: Running = {
    monitor,
    options,
    async stop() {
      await periodic.stop();
      await monitor.delivered();
      if (holder[key] === running) delete holder[key];
    },
  };
  holder[key] = running;
  return running;
}

export type BudgetMonitorState = { periodSeconds: number; rules: RatchetRules; trends: ReadonlyMap<SlaKey, Trend> };

/** This process's budget trends and rules, or undefined where no budget monitor runs. */
export function budgetMonitorState(): BudgetMonitorState | undefined {
  const running = holder[key];
  if (!running) return undefined;
  return {
    periodSeconds: running.options.periodSeconds,
    rules: running.options.rules,
    trends: running.monitor.trends(),
  };
}
