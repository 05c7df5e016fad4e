import { refreshAnalytics } from "@/lib/analytics/refresh-analytics";
import { expireUploads, sweepFinishedUploads } from "@/lib/attachments/expire-uploads";
import { startAttachmentProcessing } from "@/lib/attachments/process-attachments";
import { onBatchChanged } from "@/lib/batches/on-batch-changed";
import { startChain } from "@/lib/chain/start-chain";
import { db } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";
import { purgeExpiredIdempotencyKeys } from "@/lib/idempotency/with-idempotency";
import { log } from "@/lib/log";
import { holdLease } from "@/lib/runtime/lease";

/** The singletons' lease key (a session advisory lock), beside the relayer's 72707370 and migrations' 72707369. */
export const WORKER_LEASE_KEY = 72707371;

async function maintenance(): Promise<void> {
  try {
    await refreshAnalytics();
    await purgeExpiredIdempotencyKeys();
    await expireUploads();
    await sweepFinishedUploads();
  } catch (error) {
    log.warn({ err: error }, "scheduled maintenance failed");
  }
}

export type Worker = { stop(): Promise<void> };

/** The chain (relayer, indexer, and the embedded node when there is one) and the maintenance timer. */
async function startSingletons(): Promise<Worker> {
  const chain = await startChain({
    db,
    config: env.chain,
    dataDir: env.dataDir,
    embeddedPort: env.EMBEDDED_CHAIN_PORT,
    blockSeconds: env.EMBEDDED_CHAIN_BLOCK_SECONDS,
    dumpSeconds: env.EMBEDDED_CHAIN_DUMP_SECONDS,
    onTokensChanged: (tokenIds) => onBatchChanged(...tokenIds),
  });
  const timer = setInterval(maintenance, env.ANALYTICS_REFRESH_SECONDS * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await chain.stop();
    },
  };
}

async function runSingletons(signal: AbortSignal): Promise<void> {
  const singletons = await startSingletons();
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  await singletons.stop();
}

/**
 * Runs the singletons in exactly one process per database. On PGlite there is only this process; on PostgreSQL they
 * run while this process holds the lease, and another instance takes over when it dies, freezes or stops. Received
 * files are processed by every worker: each claims its own from the queue.
 */
export async function startWorker(): Promise<Worker> {
  const attachments = startAttachmentProcessing();
  // The embedded engine serves this process alone: its chain is up before the first request, as before roles.
  const singletons = env.database.embedded
    ? await startSingletons()
    : await holdLease({
        url: env.database.url,
        key: WORKER_LEASE_KEY,
        timeoutMs: env.LEASE_TIMEOUT_SECONDS * 1000,
        run: runSingletons,
      });
  return {
    async stop() {
      await attachments.stop();
      await singletons.stop();
    },
  };
}
