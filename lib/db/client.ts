import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { noteWrite, primaryLsn, replicaPool } from "@/lib/db/replica";
import { env } from "@/lib/env.mjs";
import { PrismaClient } from "@/lib/generated/prisma/client";
import { log } from "@/lib/log";
import { watchPools } from "@/lib/metrics/metrics";

export type PoolName = "write" | "read" | "analytics";

const poolSettings: Record<PoolName, { url: string; max: number; statementTimeoutMs: number }> = {
  write: { url: env.database.url, max: env.DB_POOL_WRITE_MAX, statementTimeoutMs: 10_000 },
  read: { url: env.database.readUrl, max: env.DB_POOL_READ_MAX, statementTimeoutMs: 5_000 },
  analytics: { url: env.database.analyticsUrl, max: env.DB_POOL_ANALYTICS_MAX, statementTimeoutMs: 60_000 },
};

type Database = {
  pools: Record<PoolName, pg.Pool>;
  clients: Record<PoolName, PrismaClient>;
  /** performance.now() when the primary last answered a query. */
  primaryAnsweredAt: number;
};

function poolConfig(name: PoolName, max: number): pg.PoolConfig {
  const settings = poolSettings[name];
  return {
    connectionString: settings.url,
    max,
    options: `-c statement_timeout=${settings.statementTimeoutMs}`,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: `greenledger-${name}`,
  };
}

function createPool(name: PoolName, max: number): pg.Pool {
  const pool = new pg.Pool(poolConfig(name, max));
  pool.on("error", (error) => log.warn({ err: error, pool: name }, "idle database connection failed"));
  return pool;
}

function createDatabase(): Database {
  const names = Object.keys(poolSettings) as PoolName[];
  // PGlite runs one query at a time, and its socket multiplexer interleaves extended-protocol messages of
  // concurrent connections (an unnamed statement of one is bound with another's parameters): one connection.
  const shared = env.database.embedded ? createPool("write", 1) : undefined;
  const write = shared ?? createPool("write", poolSettings.write.max);
  // A read replica answers only what it has replayed; the pool sends the rest to the primary (lib/db/replica.ts).
  const replica = !shared && env.database.readUrl !== env.database.url;
  const pools: Record<PoolName, pg.Pool> = {
    write,
    read:
      shared ??
      (replica
        ? replicaPool(poolConfig("read", poolSettings.read.max), write)
        : createPool("read", poolSettings.read.max)),
    analytics: shared ?? createPool("analytics", poolSettings.analytics.max),
  };
  const clients = Object.fromEntries(
    names.map((name) => [name, new PrismaClient({ adapter: new PrismaPg(pools[name]) })]),
  ) as Record<PoolName, PrismaClient>;
  watchPools(pools);
  const database: Database = { pools, clients, primaryAnsweredAt: Number.NEGATIVE_INFINITY };
  // A connection given back without an error had its query answered.
  write.on("release", (error) => {
    if (!error) database.primaryAnsweredAt = performance.now();
  });
  return database;
}

// One set of pools per process: the custom server and Next's bundled route code share them.
const key = Symbol.for("greenledger.database");
const holder = globalThis as typeof globalThis & { [key]?: Database };
holder[key] ??= createDatabase();
const database = holder[key];

export const db = database.clients.write;
export const dbRead = database.clients.read;
export const dbAnalytics = database.clients.analytics;
export const pools = database.pools;

export async function closeDatabase(): Promise<void> {
  await Promise.all(Object.values(database.clients).map((client) => client.$disconnect()));
  await Promise.all([...new Set(Object.values(database.pools))].map((pool) => pool.end().catch(() => undefined)));
  delete holder[key];
}

/** Whether the primary answered one of this process's queries in the last `ms`: a busy process needs no probe. */
export function primaryAnsweredWithin(ms: number): boolean {
  return performance.now() - database.primaryAnsweredAt <= ms;
}

/** Whether reads may come from a streaming replica (DATABASE_READ_URL elsewhere than the primary). */
export const readsFromReplica = !env.database.embedded && env.database.readUrl !== env.database.url;

/**
 * After a commit: the primary's position, which this process's reads (and, through invalidations and the
 * read-after cookie, other instances' and the user's next ones) must have replayed. Undefined on the embedded engine.
 */
export async function fenceWrite(): Promise<string | undefined> {
  if (env.database.embedded) return undefined;
  const lsn = await primaryLsn(pools.write);
  noteWrite(lsn);
  return lsn;
}
