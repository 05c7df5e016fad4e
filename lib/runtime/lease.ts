import { hostname } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";
import { log } from "@/lib/log";

export type LeaseOptions = {
  url: string;
  /** The session advisory lock's key: one lease per key per database. */
  key: number;
  /**
   * The lease connection's idle_session_timeout: a holder that stops talking to the database (frozen, cut off) loses
   * its session, and with it the lock, after this long.
   */
  timeoutMs: number;
  /** Runs while the lease is held; must settle soon after `signal` aborts. */
  run: (signal: AbortSignal) => Promise<void>;
};

export type Lease = {
  /** Gives the lease up: stops `run`, then closes the connection so another instance may take it. */
  stop(): Promise<void>;
};

/** Who holds a lease, as PostgreSQL shows it (pg_stat_activity.application_name). */
export const leaseHolderName = () => `greenledger-lease ${hostname()} ${process.pid}`;

async function connect(options: LeaseOptions): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: options.url,
    application_name: leaseHolderName(),
    options: `-c idle_session_timeout=${Math.round(options.timeoutMs)} -c statement_timeout=${Math.round(options.timeoutMs)}`,
    connectionTimeoutMillis: options.timeoutMs,
  });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/**
 * Holds a PostgreSQL session advisory lock on a dedicated connection and runs `run` while it is held. The holder
 * speaks on that connection several times per timeout; when a heartbeat fails or is late (the database went away, or
 * this process was frozen and PostgreSQL has ended the idle session) it steps down at once, before another instance
 * can have taken over. Standbys ask for the lock about once a second.
 */
export function holdLease(options: LeaseOptions): Lease {
  const stopping = new AbortController();
  const beatMs = options.timeoutMs / 4;
  // Stepping down before the server can end the session: a late heartbeat counts as lost.
  const deadlineMs = options.timeoutMs * 0.6;
  const retryMs = Math.min(1_000, options.timeoutMs / 2);

  async function lead(client: pg.Client): Promise<void> {
    const lost = new AbortController();
    const step = () => lost.abort();
    stopping.signal.addEventListener("abort", step);
    client.on("error", step);
    client.on("end", step);
    let lastBeat = Date.now();
    const heartbeat = setInterval(() => {
      // A process resumed after a freeze finds its last heartbeat too old before anything else runs on this timer.
      if (Date.now() - lastBeat > deadlineMs) return step();
      client.query("SELECT 1").then(() => {
        lastBeat = Date.now();
      }, step);
    }, beatMs);
    log.info({ key: options.key }, "lease acquired: running the singletons");
    try {
      await Promise.all([
        options.run(lost.signal),
        new Promise((resolve) => lost.signal.addEventListener("abort", resolve)),
      ]);
    } finally {
      clearInterval(heartbeat);
      stopping.signal.removeEventListener("abort", step);
      log.info({ key: options.key, stopping: stopping.signal.aborted }, "lease given up: singletons stopped");
    }
  }

  async function loop(): Promise<void> {
    while (!stopping.signal.aborted) {
      let client: pg.Client | undefined;
      try {
        client = await connect(options);
        while (!stopping.signal.aborted) {
          const { rows } = await client.query<{ held: boolean }>("SELECT pg_try_advisory_lock($1) AS held", [
            options.key,
          ]);
          if (rows[0]?.held) {
            await lead(client);
            break;
          }
          await delay(retryMs, undefined, { signal: stopping.signal }).catch(() => undefined);
        }
      } catch (error) {
        log.warn({ err: error, key: options.key }, "lease connection failed; asking again");
      } finally {
        // Ending the session releases the lock, whatever state the connection is in.
        await client?.end().catch(() => undefined);
      }
      await delay(retryMs, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  }

  const running = loop();
  return {
    async stop() {
      stopping.abort();
      await running;
    },
  };
}
