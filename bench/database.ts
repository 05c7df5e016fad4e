import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";
import { BENCH_CHAIN_ID, type SeedReport, seedDatabase } from "@/bench/seed";
import { encodeCursor } from "@/lib/batches/search-cursor";

export type BenchDatabase = {
  url: string;
  name: string;
  seeded: SeedReport | null;
  /** Call before starting a server with its own embedded chain. */
  resetChain(): Promise<void>;
  /** The contract the last server with an embedded chain deployed. */
  contract(): Promise<string>;
  /** Cursors of the default search ("newest") after `count` rows picked at random, each a different depth. */
  randomCursors(count: number): Promise<string[]>;
  drop(): Promise<void>;
};

const REUSED_NAME = "gl_bench_reuse";

function withDatabase(url: string, name: string): string {
  const target = new URL(url);
  target.pathname = `/${name}`;
  return target.toString();
}

async function onServer<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

// A kept database is only reused when a seed of this size finished in it; the marker is written last.
async function completeSeed(url: string, batches: number): Promise<boolean> {
  return onServer(url, async (client) => {
    const { rows } = await client.query(`SELECT to_regclass('bench_seed') IS NOT NULL AS present`);
    if (!rows[0]?.present) return false;
    const seeded = await client.query("SELECT batches FROM bench_seed");
    return Number(seeded.rows[0]?.batches) === batches;
  });
}

/**
 * Each server starts a fresh embedded anvil and deploys the contract anew. Left in place, another server's
 * deployment would look like a chain that lost its state, and the server would reset every batch to pending.
 * The seeded on-chain projection (chain_tokens) stays.
 */
async function resetChainBookkeeping(url: string): Promise<void> {
  await onServer(url, (client) =>
    client.query(
      `TRUNCATE chain_jobs, chain_transactions, chain_deployments, chain_cursors, chain_blocks, chain_events`,
    ),
  );
}

/**
 * The database as a server that has run a while holds it, before anything is measured. Right after a bulk load (or
 * a run that left dead rows) autovacuum would work through millions of rows, throttled, for minutes, and the first
 * reads set hint bits and dirty pages: both ran during the first measured runs, took CPU and disk from them and made
 * cold verifications twice as slow here (3,500 vs 6,400 req/s on the same server). So: vacuumed unthrottled, every
 * table and index read into the OS page cache (the cold runs measure lookups, not a disk that has not seen the
 * data since boot), and a checkpoint, so no flush of the seed's pages lands mid-run either.
 */
export async function settle(url: string): Promise<void> {
  await onServer(url, async (client) => {
    await client.query("VACUUM (FREEZE, ANALYZE)");
    await client.query("CREATE EXTENSION IF NOT EXISTS pg_prewarm");
  });
  await prewarm(url);
  await onServer(url, (client) => client.query("CHECKPOINT"));
}

/** Reads every table and index into the OS page cache (on a replica too, once pg_prewarm exists on the primary). */
export async function prewarm(url: string): Promise<void> {
  await onServer(url, (client) =>
    client.query(
      `SELECT pg_prewarm(c.oid, 'read') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 'm')`,
    ),
  );
}

/** Waits until the primary's one streaming replica has replayed everything written so far. */
export async function replicaCaughtUp(primaryUrl: string, timeoutMs: number): Promise<void> {
  await onServer(primaryUrl, async (client) => {
    const { rows: target } = await client.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await client.query<{ behind: boolean | null }>(
        "SELECT replay_lsn < $1::pg_lsn AS behind FROM pg_stat_replication WHERE state = 'streaming'",
        [target[0]?.lsn],
      );
      if (rows[0]?.behind === false) return;
      if (Date.now() > deadline) throw new Error(`the replica had not replayed the seed after ${timeoutMs} ms`);
      await delay(200);
    }
  });
}

export async function prepareDatabase(options: {
  adminUrl: string;
  batches: number;
  hotTokens: number[];
  reuse: boolean;
  keep: boolean;
}): Promise<BenchDatabase> {
  const { adminUrl, batches, hotTokens, reuse, keep } = options;
  const name = reuse ? REUSED_NAME : `gl_bench_${Date.now().toString(36)}_${process.pid}`;
  const url = withDatabase(adminUrl, name);
  const exists = await onServer(adminUrl, async (client) => {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    return (rowCount ?? 0) > 0;
  });
  let seeded: SeedReport | null = null;
  if (!exists || !(await completeSeed(url, batches))) {
    await onServer(adminUrl, async (client) => {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.query(`CREATE DATABASE "${name}"`);
    });
    seeded = await seedDatabase(url, batches, hotTokens);
    await onServer(url, async (client) => {
      await client.query("CREATE TABLE bench_seed (batches integer NOT NULL, chain_id integer NOT NULL)");
      await client.query("INSERT INTO bench_seed VALUES ($1, $2)", [batches, BENCH_CHAIN_ID]);
    });
  }
  await settle(url);
  return {
    url,
    name,
    seeded,
    resetChain: () => resetChainBookkeeping(url),
    // The instance deploys it once it holds the worker lease, which may be just after it answers ready.
    contract: () =>
      onServer(url, async (client) => {
        const deadline = Date.now() + 30_000;
        for (;;) {
          const { rows } = await client.query("SELECT contract_address FROM chain_deployments WHERE chain_id = $1", [
            BENCH_CHAIN_ID,
          ]);
          if (rows[0]) return rows[0].contract_address as string;
          if (Date.now() > deadline) throw new Error("no contract deployed within 30 s");
          await delay(100);
        }
      }),
    randomCursors: (count) =>
      onServer(url, async (client) => {
        const { rows } = await client.query<{ harvest_date: string; token_id: string }>(
          `SELECT to_char(harvest_date, 'YYYY-MM-DD') AS harvest_date, token_id::text AS token_id
             FROM crop_batches TABLESAMPLE SYSTEM (25) ORDER BY random() LIMIT $1`,
          [count],
        );
        return rows.map((row) => encodeCursor("newest", row.harvest_date, Number(row.token_id)));
      }),
    async drop() {
      if (reuse || keep) return;
      await onServer(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
