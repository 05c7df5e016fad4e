import "server-only";
import { db } from "@/lib/db/client";
import type { SlaKey } from "@/lib/observability/sla";

/** The operation's budget in seconds; an operation seen for the first time starts at its SLA bound. */
export async function loadPerformanceBudget(key: SlaKey, boundSeconds: number): Promise<number> {
  await db.performanceBudget.createMany({ data: [{ key, budgetSeconds: boundSeconds }], skipDuplicates: true });
  const { budgetSeconds } = await db.performanceBudget.findUniqueOrThrow({ where: { key } });
  return budgetSeconds;
}
