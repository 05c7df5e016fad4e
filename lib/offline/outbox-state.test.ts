import { describe, expect, it } from "vitest";
import { outboxExport } from "./outbox-export";
import {
  afterAttempt,
  backoffMs,
  classifyReply,
  describeFailure,
  describeNextTry,
  isDue,
  networkFailure,
  newPendingBatch,
  resend,
  type SendError,
} from "./outbox-state";

let counter = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++counter).padStart(12, "0")}`;
const body = {
  cropType: "tomato",
  quantity: 10,
  unit: "KGM" as const,
  harvestDate: "2026-11-20",
  farmId: 1,
  qualityScore: 80,
};

describe("outbox state", () => {
  it("fixes the client id and idempotency key when the batch is saved", () => {
    const batch = newPendingBatch(body, 1_000, uuid);
    expect(batch.body.clientId).toBe(batch.clientId);
    expect(batch.idempotencyKey).not.toBe(batch.clientId);
    expect(batch).toMatchObject({ status: "pending", attempts: 0, nextAttemptAt: 1_000, lastError: null });
    expect(isDue(batch, 1_000)).toBe(true);
  });

  it("backs off exponentially with bounded jitter and a five-minute cap", () => {
    expect(backoffMs(1, 0.5)).toBe(1_000);
    expect(backoffMs(2, 0.5)).toBe(2_000);
    expect(backoffMs(4, 0.5)).toBe(8_000);
    expect(backoffMs(4, 0)).toBe(6_400);
    expect(backoffMs(4, 1)).toBe(9_600);
    expect(backoffMs(30, 0.5)).toBe(300_000);
    expect(backoffMs(1_000, 1)).toBe(360_000);
  });

  it("keeps a batch that met a 5xx or no network, due again only after the backoff", () => {
    const batch = newPendingBatch(body, 0, uuid);
    const after503 = afterAttempt(
      batch,
      classifyReply(503, { error: { code: "service_unavailable", message: "x" } }),
      0,
      0.5,
    );
    expect(after503).toMatchObject({ status: "pending", attempts: 1, nextAttemptAt: 1_000 });
    expect(after503?.lastError).toEqual({ status: 503, code: "service_unavailable", message: "x" });
    const afterDrop = afterAttempt(after503 ?? batch, networkFailure("Failed to fetch"), 1_000, 0.5);
    expect(afterDrop).toMatchObject({ status: "pending", attempts: 2, nextAttemptAt: 3_000 });
    expect(isDue(afterDrop ?? batch, 2_999)).toBe(false);
    expect(isDue(afterDrop ?? batch, 3_000)).toBe(true);
    expect(isDue(afterDrop ?? batch, 0, true)).toBe(true);
  });

  it("marks a 4xx as needing attention with the server's reason, and never sends it again by itself", () => {
    const batch = newPendingBatch(body, 0, uuid);
    const reply = {
      error: {
        code: "bad_request",
        message: "The request is invalid.",
        fields: [{ path: "farmId", message: "Unknown farm" }],
      },
    };
    const rejected = afterAttempt(batch, classifyReply(400, reply), 0, 0.5);
    expect(rejected).toMatchObject({ status: "needs-attention", lastError: { status: 400, ...reply.error } });
    expect(isDue(rejected ?? batch, Number.MAX_SAFE_INTEGER, true)).toBe(false);
    expect(classifyReply(403, { error: { code: "forbidden", message: "no" } }).kind).toBe("rejected");
    expect(classifyReply(422, { error: { code: "client_id_reused", message: "no" } }).kind).toBe("rejected");
  });

  it("retries a request still running elsewhere, and pauses without cost when signed out", () => {
    expect(classifyReply(409, { error: { code: "idempotency_request_in_progress", message: "x" } }).kind).toBe("retry");
    expect(classifyReply(429, { error: { code: "rate_limited", message: "x" } }).kind).toBe("retry");
    expect(classifyReply(409, { error: { code: "conflict", message: "GTIN and lot taken" } }).kind).toBe("rejected");
    const batch = newPendingBatch(body, 0, uuid);
    expect(afterAttempt(batch, classifyReply(401, null), 0, 0.5)).toBe(batch);
  });

  it("lets a batch leave the outbox only on a reply that carries its token id", () => {
    const batch = newPendingBatch(body, 0, uuid);
    expect(afterAttempt(batch, classifyReply(201, { tokenId: 7 }), 0, 0.5)).toBeNull();
    expect(afterAttempt(batch, classifyReply(200, { tokenId: 7 }), 0, 0.5)).toBeNull();
    expect(afterAttempt(batch, classifyReply(200, "<html>"), 0, 0.5)).toMatchObject({ status: "pending", attempts: 1 });
  });

  it("resends a fixed batch as a new request, keeping when it was first saved", () => {
    const batch = newPendingBatch(body, 5, uuid);
    const fixed = resend(batch, { ...body, farmId: 2 }, 99, uuid);
    expect(fixed.clientId).not.toBe(batch.clientId);
    expect(fixed.idempotencyKey).not.toBe(batch.idempotencyKey);
    expect(fixed).toMatchObject({
      savedAt: 5,
      status: "pending",
      attempts: 0,
      body: { farmId: 2, clientId: fixed.clientId },
    });
  });
});

describe("what the farmer reads about a failed try", () => {
  const failure = (outcome: ReturnType<typeof classifyReply>): SendError =>
    outcome.kind === "retry" ? outcome.error : { status: 0, code: "wrong", message: "not a retry" };

  it("names what happened in plain words, never the browser's message", () => {
    expect(describeFailure(failure(networkFailure("Failed to fetch")))).toBe("No connection to the server.");
    expect(describeFailure(failure(networkFailure("signal timed out", true)))).toBe(
      "The server did not answer in time.",
    );
    const busy = { error: { code: "service_unavailable", message: "Database unavailable" } };
    expect(describeFailure(failure(classifyReply(503, busy)))).toBe("The server is busy.");
    expect(describeFailure(failure(classifyReply(500, null)))).toBe("The server had a problem.");
    expect(describeFailure(failure(classifyReply(429, { error: { code: "rate_limited", message: "x" } })))).toBe(
      "The server asked the phone to slow down.",
    );
    expect(describeFailure(failure(classifyReply(200, "<html>")))).toBe("The server's answer was not understood.");
  });

  it("counts down to the next try, and waits for the network when offline", () => {
    expect(describeNextTry(40_000, 0, true)).toBe("Next try in 40 s.");
    expect(describeNextTry(40_000, 1_500, true)).toBe("Next try in 39 s.");
    expect(describeNextTry(240_000, 0, true)).toBe("Next try in 4 min.");
    expect(describeNextTry(1_000, 1_000, true)).toBe("Trying again now.");
    expect(describeNextTry(40_000, 0, false)).toBe("Next try when the phone is back online.");
  });
});

describe("outbox export", () => {
  it("lists every batch with the body the server would get", () => {
    const batch = newPendingBatch(body, Date.UTC(2026, 10, 24), uuid);
    const exported = JSON.parse(outboxExport([batch], [], new Date(Date.UTC(2026, 10, 25))));
    expect(exported).toEqual({
      format: "greenledger-outbox/1",
      exportedAt: "2026-11-25T00:00:00.000Z",
      batches: [
        {
          clientId: batch.clientId,
          idempotencyKey: batch.idempotencyKey,
          status: "pending",
          savedAt: "2026-11-24T00:00:00.000Z",
          attempts: 0,
          lastError: null,
          body: { ...body, clientId: batch.clientId },
        },
      ],
      files: [],
    });
  });
});
