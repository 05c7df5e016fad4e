import "server-only";
import { ApiError } from "@/lib/api/errors";
import { db } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";
import { type BudgetEvent, toBudgetEvent } from "@/lib/observability/budget-event";
import { slaTable } from "@/lib/observability/sla";

/** An operator puts the budget back to its SLA bound: the only way it ever goes up. */
export async function resetPerformanceBudget(key: string, actor: string): Promise<BudgetEvent> {
  const sla = slaTable(env.slaBounds).find((candidate) => candidate.key === key);
  if (!sla) throw new ApiError("not_found", `There is no SLA operation "${key}".`);
  const toSeconds = sla.boundSeconds;
  return db.$transaction(async (tx) => {
    await tx.performanceBudget.createMany({ data: [{ key: sla.key, budgetSeconds: toSeconds }], skipDuplicates: true });
    const [row] = await tx.$queryRaw<{ budgetSeconds: number }[]>`
      SELECT budget_seconds AS "budgetSeconds" FROM performance_budgets WHERE key = ${sla.key} FOR UPDATE`;
    await tx.performanceBudget.update({
      where: { key: sla.key },
      data: { budgetSeconds: toSeconds, updatedAt: new Date() },
    });
    const event = await tx.performanceBudgetEvent.create({
      data: { key: sla.key, kind: "reset", fromSeconds: row?.budgetSeconds ?? toSeconds, toSeconds, p99s: [], actor },
    });
    return toBudgetEvent(event);
  });
}
