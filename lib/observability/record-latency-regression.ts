import "server-only";
import { db } from "@/lib/db/client";
import type { SlaKey } from "@/lib/observability/sla";

type Regression = { key: SlaKey; budgetSeconds: number; p99s: number[]; note: string; actor: string };

/** Keeps a regression the change-point check reported in the budget's history; the budget itself does not change. */
export async function recordLatencyRegression({ key, budgetSeconds, p99s, note, actor }: Regression): Promise<void> {
  await db.performanceBudgetEvent.create({
    data: { key, kind: "regression", fromSeconds: budgetSeconds, toSeconds: budgetSeconds, p99s, note, actor },
  });
}
