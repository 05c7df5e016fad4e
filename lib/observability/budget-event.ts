import type { PerformanceBudgetEvent } from "@/lib/generated/prisma/client";
import type { PerformanceBudgetEventKind } from "@/lib/generated/prisma/enums";

/** One entry of a budget's history, as the operations page and GET /api/operations show it. */
export type BudgetEvent = {
  id: string;
  kind: PerformanceBudgetEventKind;
  fromSeconds: number;
  toSeconds: number;
  /** The period P99s (seconds, oldest first) that led to it. */
  p99s: number[];
  note: string | null;
  /** The instance that evaluated it, or the admin who reset the budget. */
  actor: string;
  at: string;
};

export function toBudgetEvent(event: PerformanceBudgetEvent): BudgetEvent {
  return {
    id: event.id.toString(),
    kind: event.kind,
    fromSeconds: event.fromSeconds,
    toSeconds: event.toSeconds,
    p99s: event.p99s,
    note: event.note,
    actor: event.actor,
    at: event.at.toISOString(),
  };
}
