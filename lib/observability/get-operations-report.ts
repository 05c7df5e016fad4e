import "server-only";
import { log } from "@/lib/log";
import type { BudgetEvent } from "@/lib/observability/budget-event";
import { budgetMonitorState } from "@/lib/observability/budget-monitor";
import type { RatchetRules } from "@/lib/observability/budget-ratchet";
import { getTracingReport, type TracingReport } from "@/lib/observability/get-tracing-report";
import { listPerformanceBudgets } from "@/lib/observability/list-performance-budgets";
import type { SlaKey } from "@/lib/observability/sla";
import { type SlaReport, slaReport } from "@/lib/observability/sla-monitor";

export type BudgetStatus = {
  key: SlaKey;
  name: string;
  boundSeconds: number;
  /** The P99 the operation is held to: the SLA bound until it first tightens. */
  budgetSeconds: number;
  updatedAt: string | null;
  /** This instance's P99 of each of its last periods with enough requests, seconds, oldest first. */
  recentP99s: number[];
  /** This instance's change-point check reported a regression the P99s have not come back from. */
  regressed: boolean;
  /** The last 20 events, newest first. */
  history: BudgetEvent[];
};

export type OperationsReport = SlaReport & {
  /** The budgets' period (after SLA_MONITOR_WINDOW_SCALE) and rules; null where no budget monitor runs. */
  budgetRules: (RatchetRules & { periodSeconds: number }) | null;
  budgets: BudgetStatus[];
  /** The stored budgets could not be read (the database is away): the SLA figures are still this process's own. */
  budgetsUnavailable: boolean;
  /** Sampling, the slowest recent traces and slow exemplars; null where tracing is off (OTEL_SDK_DISABLED). */
  tracing: TracingReport | null;
};

/** This process's SLA report with every operation's budget from the database; undefined where no monitor runs. */
export async function getOperationsReport(): Promise<OperationsReport | undefined> {
  const report = slaReport();
  if (!report) return undefined;
  // The page an on-call engineer opens during a database outage must still show the burn alerts.
  const stored = await listPerformanceBudgets().catch((error: unknown) => {
    log.warn({ err: error }, "performance budgets could not be read");
    return null;
  });
  const state = budgetMonitorState();
  const tracing = await getTracingReport();
  return {
    ...report,
    budgetRules: state ? { periodSeconds: state.periodSeconds, ...state.rules } : null,
    budgetsUnavailable: stored === null,
    tracing,
    budgets: report.slas.map(({ key, name, boundSeconds }) => {
      const budget = stored?.get(key);
      const trend = state?.trends.get(key);
      return {
        key,
        name,
        boundSeconds,
        budgetSeconds: budget?.budgetSeconds ?? boundSeconds,
        updatedAt: budget?.updatedAt ?? null,
        recentP99s: trend?.p99s ?? [],
        regressed: trend?.regressed ?? false,
        history: budget?.history ?? [],
      };
    }),
  };
}
