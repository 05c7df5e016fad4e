import type { z } from "zod";
import type { ErrorBody, FieldError } from "@/lib/api/errors";
import type { createBatchSchema } from "@/lib/batches/schema";

/** What the form hands over: the request body exactly as it will be POSTed. */
export type BatchBody = z.input<typeof createBatchSchema>;

export type SendError = { status: number | null; code: string; message: string; fields?: FieldError[] };

/**
 * One batch saved on the phone. `clientId` and `idempotencyKey` are fixed when it is saved, so every resend
 * is the same request to the server. Only `pending` batches are sent; `needs-attention` waits for the farmer.
 */
export type PendingBatch = {
  clientId: string;
  idempotencyKey: string;
  body: BatchBody;
  savedAt: number;
  status: "pending" | "needs-attention";
  attempts: number;
  nextAttemptAt: number;
  lastError: SendError | null;
};

export type SendOutcome =
  | { kind: "delivered"; tokenId: number }
  | { kind: "rejected"; error: SendError }
  | { kind: "retry"; error: SendError }
  | { kind: "signed-out" };

const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 5 * 60_000;

// Answers that say "not now" rather than "not this batch": the same request may succeed later.
const TRANSIENT_CODES = new Set(["idempotency_request_in_progress", "rate_limited"]);

export function newPendingBatch(body: Omit<BatchBody, "clientId">, now: number, uuid: () => string): PendingBatch {
  const clientId = uuid();
  return {
    clientId,
    idempotencyKey: uuid(),
    body: { ...body, clientId },
    savedAt: now,
    status: "pending",
    attempts: 0,
    nextAttemptAt: now,
    lastError: null,
  };
}

/** Exponential backoff with +-20% jitter so phones that come back online together do not retry in step. */
export function backoffMs(attempts: number, random: number): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 20);
  const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** exponent);
  return Math.round(delay * (0.8 + 0.4 * random));
}

function errorFromBody(status: number, body: unknown): SendError {
  const error = (body as Partial<ErrorBody> | null)?.error;
  if (error && typeof error.code === "string" && typeof error.message === "string") {
    return { status, code: error.code, message: error.message, ...(error.fields ? { fields: error.fields } : {}) };
  }
  return { status, code: "unexpected_reply", message: `The server answered ${status}.` };
}

export function classifyReply(status: number, body: unknown): SendOutcome {
  if (status === 200 || status === 201) {
    const tokenId = (body as { tokenId?: unknown } | null)?.tokenId;
    if (typeof tokenId === "number") return { kind: "delivered", tokenId };
    return { kind: "retry", error: { status, code: "unexpected_reply", message: "The reply had no token id." } };
  }
  if (status === 401) return { kind: "signed-out" };
  const error = errorFromBody(status, body);
  if (status >= 500 || status === 408 || TRANSIENT_CODES.has(error.code)) return { kind: "retry", error };
  if (status >= 400) return { kind: "rejected", error };
  return { kind: "retry", error };
}

/** `timedOut`: the request was sent but no answer came in time (the server may still have it). */
export function networkFailure(reason: string, timedOut = false): SendOutcome {
  return { kind: "retry", error: { status: null, code: timedOut ? "timeout" : "network", message: reason } };
}

/** What went wrong on the last try, in the farmer's words (the browser's own message means nothing to them). */
export function describeFailure(error: SendError): string {
  if (error.code === "network") return "No connection to the server.";
  if (error.code === "timeout") return "The server did not answer in time.";
  if (error.code === "rate_limited" || error.status === 429) return "The server asked the phone to slow down.";
  if (error.code === "idempotency_request_in_progress") return "The server is still working on this batch.";
  if (error.status === 502 || error.status === 503 || error.status === 504) return "The server is busy.";
  if (error.status !== null && error.status >= 500) return "The server had a problem.";
  return "The server's answer was not understood.";
}

/** When the next automatic try is, counted down in whole seconds (then minutes), as the farmer reads it. */
export function describeNextTry(nextAttemptAt: number, now: number, online: boolean): string {
  if (!online) return "Next try when the phone is back online.";
  const seconds = Math.ceil((nextAttemptAt - now) / 1000);
  if (seconds <= 0) return "Trying again now.";
  if (seconds < 90) return `Next try in ${seconds} s.`;
  return `Next try in ${Math.round(seconds / 60)} min.`;
}

/** The batch after a send attempt, or null when the server has it and it may leave the outbox. */
export function afterAttempt(
  batch: PendingBatch,
  outcome: SendOutcome,
  now: number,
  random: number,
): PendingBatch | null {
  switch (outcome.kind) {
    case "delivered":
      return null;
    case "signed-out":
      return batch;
    case "rejected":
      return { ...batch, status: "needs-attention", attempts: batch.attempts + 1, lastError: outcome.error };
    case "retry": {
      const attempts = batch.attempts + 1;
      return { ...batch, attempts, nextAttemptAt: now + backoffMs(attempts, random), lastError: outcome.error };
    }
  }
}

/** The farmer fixed a rejected batch: it is a new request (the server kept nothing of the rejected one). */
export function resend(batch: PendingBatch, body: Omit<BatchBody, "clientId">, now: number, uuid: () => string) {
  return { ...newPendingBatch(body, now, uuid), savedAt: batch.savedAt };
}

/** `ignoreBackoff`: the network just came back (`online`, `sync`), so waiting out the backoff gains nothing. */
export function isDue(batch: PendingBatch, now: number, ignoreBackoff = false): boolean {
  return batch.status === "pending" && (ignoreBackoff || batch.nextAttemptAt <= now);
}
