import type { z } from "zod";
import type { ErrorBody, FieldError } from "@/lib/api/errors";
import type { createBatchSchema } from "@/lib/batches/schema";

/** What the form hands over: the request body exactly as it will be POSTed. */
export type BatchBody = z.input<typeof createBatchSchema>;

export type SendError = { status: number | null; code: string; message: string; fields?: FieldError[] };

/** What the phone keeps about sending one thing (a batch, a file): only `pending` ones are sent by themselves. */
export type Attempted = {
  status: "pending" | "needs-attention";
  attempts: number;
  nextAttemptAt: number;
  lastError: SendError | null;
};

/** How one try ended, for anything the phone sends: `delivered` lets it leave the phone. */
export type Outcome =
  | { kind: "delivered" }
  | { kind: "rejected"; error: SendError }
  | { kind: "retry"; error: SendError }
  | { kind: "signed-out" };

/**
 * One batch saved on the phone. `clientId` and `idempotencyKey` are fixed when it is saved, so every resend
 * is the same request to the server. Only `pending` batches are sent; `needs-attention` waits for the farmer.
 */
export type PendingBatch = Attempted & {
  clientId: string;
  idempotencyKey: string;
  body: BatchBody;
  savedAt: number;
};

export type SendOutcome = Exclude<Outcome, { kind: "delivered" }> | { kind: "delivered"; tokenId: number };

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

/** A reply that is not a success: "not now" (retry), "not this" (rejected), or "sign in again". */
export function classifyFailure(status: number, body: unknown): Exclude<Outcome, { kind: "delivered" }> {
  if (status === 401) return { kind: "signed-out" };
  const error = errorFromBody(status, body);
  if (status >= 500 || status === 408 || TRANSIENT_CODES.has(error.code)) return { kind: "retry", error };
  if (status >= 400) return { kind: "rejected", error };
  return { kind: "retry", error };
}

export function classifyReply(status: number, body: unknown): SendOutcome {
  if (status === 200 || status === 201) {
    const tokenId = (body as { tokenId?: unknown } | null)?.tokenId;
    if (typeof tokenId === "number") return { kind: "delivered", tokenId };
    return { kind: "retry", error: { status, code: "unexpected_reply", message: "The reply had no token id." } };
  }
  return classifyFailure(status, body);
}

/** `timedOut`: the request was sent but no answer came in time (the server may still have it). */
export function networkFailure(reason: string, timedOut = false): Extract<Outcome, { kind: "retry" }> {
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

/** A batch (or file) after a send attempt, or null when the server has it and it may leave the phone. */
export function afterAttempt<T extends Attempted>(item: T, outcome: Outcome, now: number, random: number): T | null {
  switch (outcome.kind) {
    case "delivered":
      return null;
    case "signed-out":
      return item;
    case "rejected":
      return { ...item, status: "needs-attention", attempts: item.attempts + 1, lastError: outcome.error };
    case "retry": {
      const attempts = item.attempts + 1;
      return { ...item, attempts, nextAttemptAt: now + backoffMs(attempts, random), lastError: outcome.error };
    }
  }
}

/** The farmer fixed a rejected batch: it is a new request (the server kept nothing of the rejected one). */
export function resend(batch: PendingBatch, body: Omit<BatchBody, "clientId">, now: number, uuid: () => string) {
  return { ...newPendingBatch(body, now, uuid), savedAt: batch.savedAt };
}

/** `ignoreBackoff`: the network just came back (`online`, `sync`), so waiting out the backoff gains nothing. */
export function isDue(item: Attempted, now: number, ignoreBackoff = false): boolean {
  return item.status === "pending" && (ignoreBackoff || item.nextAttemptAt <= now);
}
