-- Each SLA operation's P99 budget (lib/observability/budget-ratchet.ts): it starts at the SLA bound and only tightens,
-- by a monotonic UPDATE so instances cannot loosen each other; an admin's reset puts it back. Its history keeps each
-- tightening, each regression the change-point check reported, and each reset with who did it.
CREATE TYPE "PerformanceBudgetEventKind" AS ENUM ('tightened', 'regression', 'reset');
CREATE TABLE "performance_budgets" (
    "key" VARCHAR(32) NOT NULL,
    "budget_seconds" DOUBLE PRECISION NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "performance_budgets_pkey" PRIMARY KEY ("key")
);
CREATE TABLE "performance_budget_events" (
    "id" BIGSERIAL NOT NULL,
    "key" VARCHAR(32) NOT NULL,
    "kind" "PerformanceBudgetEventKind" NOT NULL,
    "from_seconds" DOUBLE PRECISION NOT NULL,
    "to_seconds" DOUBLE PRECISION NOT NULL,
    "p99s" DOUBLE PRECISION[],
    "note" TEXT,
    "actor" VARCHAR(255) NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "performance_budget_events_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "performance_budget_events_key_id_idx" ON "performance_budget_events"("key", "id" DESC);
ALTER TABLE "performance_budget_events" ADD CONSTRAINT "performance_budget_events_key_fkey" FOREIGN KEY ("key") REFERENCES "performance_budgets"("key") ON DELETE RESTRICT ON UPDATE CASCADE;
