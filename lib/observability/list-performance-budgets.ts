import "server-only";
import { dbRead } from "@/lib/db/client";
import { type BudgetEvent, toBudgetEvent } from "@/lib/observability/budget-event";

const HISTORY_KEPT = 20;

export type StoredBudget = { budgetSeconds: number; updatedAt: string; history: BudgetEvent[] };

/** Every stored budget by operation, each with its last 20 events, newest first. */
export async function listPerformanceBudgets(): Promise<Map<string, StoredBudget>> {
  const rows = await dbRead.performanceBudget.findMany({
    include: { events: { orderBy: { id: "desc" }, take: HISTORY_KEPT } },
  });
  return new Map(
    rows.map((row) => [
      row.key,
      {
        budgetSeconds: row.budgetSeconds,
        updatedAt: row.updatedAt.toISOString(),
        history: row.events.map(toBudgetEvent),
      },
    ]),
  );
}
