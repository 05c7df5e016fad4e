import "server-only";
import { LRUCache } from "lru-cache";
import { pools } from "@/lib/db/client";
import { log } from "@/lib/log";
import type { PlanNode } from "@/lib/observability/trace-advice";

// A statement's plan changes with the data, slowly: one EXPLAIN per statement every few minutes is plenty.
const plans = new LRUCache<string, { plan: PlanNode | null }>({ max: 200, ttl: 5 * 60_000 });
const READ = /^\s*(select|with)\b/i;

/**
 * The generic plan of a traced read (its `$n` parameters unknown, as a prepared statement's would be), taken on the
 * read pool without running the statement; null for anything but a read, or when PostgreSQL cannot plan it alone.
 */
export async function explainStatement(statement: string): Promise<PlanNode | null> {
  const cached = plans.get(statement);
  if (cached) return cached.plan;
  const plan = READ.test(statement) && !statement.includes(";") ? await explain(statement) : null;
  plans.set(statement, { plan });
  return plan;
}

async function explain(statement: string): Promise<PlanNode | null> {
  const parameters = Math.max(0, ...[...statement.matchAll(/\$(\d+)/g)].map((match) => Number(match[1])));
  const client = await pools.read.connect();
  try {
    await client.query("BEGIN READ ONLY");
    // PostgreSQL 16's EXPLAIN (GENERIC_PLAN) in a form 15 has: a prepared statement, planned without its values.
    await client.query("SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL statement_timeout = 2000");
    await client.query(`PREPARE gl_explain AS ${statement}`);
    const values = Array.from({ length: parameters }, () => "NULL").join(", ");
    const { rows } = await client.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) EXECUTE gl_explain${parameters ? `(${values})` : ""}`,
    );
    return rows[0]?.["QUERY PLAN"][0]?.Plan ?? null;
  } catch (error) {
    log.debug({ err: error }, "a traced statement could not be explained");
    return null;
  } finally {
    await client.query("ROLLBACK").catch(() => undefined);
    await client.query("DEALLOCATE gl_explain").catch(() => undefined);
    client.release();
  }
}
