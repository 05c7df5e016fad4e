import { assignTokens } from "./file-outbox";
import { listPendingBatches, recordAttempt, SYNC_LOCK } from "./outbox";
import {
  afterAttempt,
  classifyReply,
  isDue,
  networkFailure,
  type PendingBatch,
  type SendOutcome,
} from "./outbox-state";

export type ReplayResult = { delivered: number; waiting: number; needsAttention: number; signedOut: boolean };

// A request the network swallowed must not hold the lock (and every other replay) forever.
const SEND_TIMEOUT_MS = 20_000;

async function send(batch: PendingBatch): Promise<SendOutcome> {
  let response: Response;
  try {
    response = await fetch("/api/crop-batches", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": batch.idempotencyKey },
      body: JSON.stringify(batch.body),
      credentials: "same-origin",
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    return networkFailure(error instanceof Error ? error.message : "The request failed.", timedOut);
  }
  const body: unknown = await response.json().catch(() => null);
  return classifyReply(response.status, body);
}

async function replayHoldingLock(ignoreBackoff: boolean): Promise<ReplayResult> {
  let delivered = 0;
  let signedOut = false;
  const tried = new Set<string>();
  for (;;) {
    const now = Date.now();
    const next = (await listPendingBatches()).find(
      (batch) => isDue(batch, now, ignoreBackoff) && !tried.has(batch.clientId),
    );
    if (!next) break;
    tried.add(next.clientId);
    const outcome = await send(next);
    if (outcome.kind === "signed-out") {
      signedOut = true;
      break;
    }
    if (outcome.kind === "delivered") {
      delivered += 1;
      await assignTokens([{ clientId: next.clientId, tokenId: outcome.tokenId }]);
    }
    await recordAttempt(next, afterAttempt(next, outcome, Date.now(), Math.random()));
  }
  const left = await listPendingBatches();
  const needsAttention = left.filter((batch) => batch.status === "needs-attention").length;
  return { delivered, waiting: left.length - needsAttention, needsAttention, signedOut };
}

/**
 * Sends every due batch once, oldest first. The page (on load, on `online`, on a timer) and the worker
 * (on `sync`, on activation) all call this; the lock queues them, so a batch is never in flight twice.
 * Browsers without Web Locks (Safari before 15.4) still cannot duplicate a batch: the server's idempotency
 * key and client id make a second POST a replay.
 */
export function replayOutbox({ ignoreBackoff = false } = {}): Promise<ReplayResult> {
  if (!("locks" in navigator)) return replayHoldingLock(ignoreBackoff);
  return navigator.locks.request(SYNC_LOCK, () => replayHoldingLock(ignoreBackoff));
}
