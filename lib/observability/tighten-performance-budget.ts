import "server-only";
import { db } from "@/lib/db/client";
import type { SlaKey } from "@/lib/observability/sla";

type Tightening = { key: SlaKey; toSeconds: number; p99s: number[]; note: string; actor: string };

/**
 * Lowers the budget to `toSeconds` unless it is already there or lower (another instance may have tightened it
 * further), and records the change only when there was one. Returns whether there was.
 */
export async function tightenPerformanceBudget({ key, toSeconds, p99s, note, actor }: Tightening): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ budgetSeconds: number }[]>`
      SELECT budget_seconds AS "budgetSeconds" FROM performance_budgets WHERE key = ${key} FOR UPDATE`;
    // The condition is in the UPDATE itself: whatever an instance computed, a budget only ever goes down.
    const { count } = await tx.performanceBudget.updateMany({
      where: { key, budgetSeconds: { gt: toSeconds } },
      data: { budgetSeconds: toSeconds, updatedAt: new Date() },
    });
    if (!row || count === 0) return false;
    await tx.performanceBudgetEvent.create({
      data: { key, kind: "tightened", fromSeconds: row.budgetSeconds, toSeconds, p99s, note, actor },
    });
    return true;
  });
}
