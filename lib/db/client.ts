import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
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

type Database = { pools: Record<PoolName, pg.Pool>; clients: Record<PoolName, PrismaClient> };

function createPool(name: PoolName, max: number): pg.Pool {
  const settings = poolSettings[name];
  const pool = new pg.Pool({
    connectionString: settings.url,
    max,
    options: `-c statement_timeout=${settings.statementTimeoutMs}`,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: `greenledger-${name}`,
  });
  pool.on("error", (error) => log.warn({ err: error, pool: name }, "idle database connection failed"));
  return pool;
}

function createDatabase(): Database {
  const names = Object.keys(poolSettings) as PoolName[];
  // PGlite runs one query at a time, and its socket multiplexer interleaves extended-protocol messages of
  // concurrent connections (an unnamed statement of one is bound with another's parameters): one connection.
  const shared = env.database.embedded ? createPool("write", 1) : undefined;
  const pools = Object.fromEntries(
    names.map((name) => [name, shared ?? createPool(name, poolSettings[name].max)]),
  ) as Record<PoolName, pg.Pool>;
  const clients = Object.fromEntries(
    names.map((name) => [name, new PrismaClient({ adapter: new PrismaPg(pools[name]) })]),
  ) as Record<PoolName, PrismaClient>;
  watchPools(pools);
  return { pools, clients };
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
