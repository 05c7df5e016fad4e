import { AsyncLocalStorage } from "node:async_hooks";
import pg from "pg";
import { isDatabaseUnavailable } from "@/lib/api/database-unavailable";
import { log } from "@/lib/log";

/** The cookie that carries a user's last write position (a PostgreSQL LSN) to their next requests. */
export const READ_AFTER_COOKIE = "gl-read-after";
const READ_AFTER_MAX_AGE_SECONDS = 300;
// How often the replica's replay position is read; reads that need a newer one go to the primary meanwhile.
const POLL_MS = 100;

type ReadContext = { primaryOnly: boolean; minLsn: bigint };

type ReplicaState = {
  /** What the replica has replayed (null: not known yet; Infinity-like max when it is no replica at all). */
  replayed: bigint | null;
  up: boolean;
  /** Every write this process made or heard of (an invalidation's fence): reads must see at least this. */
  watermark: bigint;
  timer: NodeJS.Timeout | null;
  context: AsyncLocalStorage<ReadContext>;
};

// Next's server bundle and server.ts load their own copies of this module: one state per process.
const key = Symbol.for("greenledger.replica");
const holder = globalThis as typeof globalThis & { [key]?: ReplicaState };
holder[key] ??= { replayed: null, up: false, watermark: 0n, timer: null, context: new AsyncLocalStorage() };
const state = holder[key];

const NOT_A_REPLICA = 2n ** 64n;

/** '16/B374D848' -> 0x16B374D848. */
export function parseLsn(text: string): bigint | null {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  return match ? (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`) : null;
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Reads in this process must see at least `lsn` from now on (a write of its own, or one another instance fenced). */
export function noteWrite(lsn: string | bigint | null | undefined): void {
  const value = typeof lsn === "string" ? parseLsn(lsn) : lsn;
  if (value && value > state.watermark) state.watermark = value;
}

/** The newest write this process knows of, to pass on to other instances with an invalidation. */
export function watermark(): string {
  return formatLsn(state.watermark);
}

/** The primary's current WAL position: every write committed so far is at or before it. */
export async function primaryLsn(primary: pg.Pool): Promise<string> {
  const { rows } = await primary.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
  return rows[0]?.lsn ?? "0/0";
}

/**
 * Runs `work` with the reads a request may take from the replica: none for a write (its own answer sees it), and
 * only what the replica has replayed up to the caller's last write (the cookie) otherwise.
 */
export function readsFor<T>(method: string | undefined, cookieHeader: string | null | undefined, work: () => T): T {
  const primaryOnly = method !== "GET" && method !== "HEAD";
  const marker = cookieHeader?.match(/(?:^|;\s*)gl-read-after=([0-9A-Fa-f]+\/[0-9A-Fa-f]+)/)?.[1];
  const minLsn = marker ? (parseLsn(marker) ?? 0n) : 0n;
  return state.context.run({ primaryOnly, minLsn }, work);
}

/** The Set-Cookie that makes this user's next reads wait for `lsn` (read from the primary until the replica has it). */
export function readAfterCookie(lsn: string, secure: boolean): string {
  return `${READ_AFTER_COOKIE}=${lsn}; Path=/; Max-Age=${READ_AFTER_MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
}

function poll(replica: pg.Pool, active: () => boolean): void {
  if (!active()) return;
  replica
    .query<{ lsn: string | null }>("SELECT pg_last_wal_replay_lsn()::text AS lsn")
    .then(
      ({ rows }) => {
        const text = rows[0]?.lsn;
        // A primary (no recovery) answers null: it has everything.
        state.replayed = text ? parseLsn(text) : NOT_A_REPLICA;
        if (!state.up) log.info("read replica answering: reads go to it again");
        state.up = true;
      },
      (error: unknown) => {
        if (state.up) log.warn({ err: error }, "read replica unreachable: reads go to the primary");
        state.up = false;
      },
    )
    .finally(() => {
      if (!active()) return;
      state.timer = setTimeout(poll, POLL_MS, replica, active);
      state.timer.unref();
    });
}

function useReplica(): boolean {
  if (!state.up || state.replayed === null) return false;
  const context = state.context.getStore();
  if (context?.primaryOnly) return false;
  const needed = context && context.minLsn > state.watermark ? context.minLsn : state.watermark;
  return state.replayed >= needed;
}

type Query = pg.Pool["query"];
type Connect = pg.Pool["connect"];
type Call = (...args: unknown[]) => Promise<unknown>;

/**
 * The read pool when DATABASE_READ_URL is a streaming replica: a query goes to the replica only when it has replayed
 * what the request must see (its own writes, the caller's last write, the process's fences), else to the primary;
 * a replica that cannot be reached sends everything to the primary, and a read that fails on it is retried there.
 */
export function replicaPool(options: pg.PoolConfig, primary: pg.Pool): pg.Pool {
  const replica = new pg.Pool(options);
  replica.on("error", () => undefined);
  let open = true;
  poll(replica, () => open);
  const onReplica = (call: Call, onPrimary: Call) =>
    call().catch((error: unknown) => {
      if (!isDatabaseUnavailable(error)) throw error;
      state.up = false;
      return onPrimary();
    });
  // Everything else (events, counts, options) is the replica pool's own; the adapter also checks instanceof pg.Pool.
  const routing = Object.create(replica) as pg.Pool;
  return Object.assign(routing, {
    query: ((...args: unknown[]) => {
      const onPrimary = () => (primary.query as unknown as Call)(...args);
      return useReplica() ? onReplica(() => (replica.query as unknown as Call)(...args), onPrimary) : onPrimary();
    }) as unknown as Query,
    connect: (() => {
      const onPrimary = () => primary.connect();
      return useReplica() ? onReplica(() => replica.connect(), onPrimary) : onPrimary();
    }) as unknown as Connect,
    end: async () => {
      open = false;
      if (state.timer) clearTimeout(state.timer);
      state.timer = null;
      await replica.end();
    },
  });
}
