import "server-only";
import canonicalize from "canonicalize";
import { ApiError, badRequest } from "@/lib/api/errors";
import { sha256Hex } from "@/lib/batches/content-hash";
import { db } from "@/lib/db/client";

// A holder that died mid-request frees its key after this long, so a retry is not refused forever.
const ABANDONED_AFTER_MS = 60_000;
// Answers about the caller's situation rather than the request: a retry may rightly get another answer.
const NOT_REPLAYED = new Set([401, 403, 409, 429]);

export type StoredResponse = { status: number; body: unknown };
/** The response as first sent, byte for byte, so a replay is identical. */
export type ReplayableResponse = { status: number; json: string; replayed: boolean };

/** The Idempotency-Key header as a Structured Field string ("...") or a bare token. */
export function readIdempotencyKey(request: Request): string | null {
  const raw = request.headers.get("idempotency-key");
  if (raw === null) return null;
  const key = raw.trim().replace(/^"(.*)"$/, "$1");
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw badRequest("The Idempotency-Key header is invalid.", [
      { path: "(header) Idempotency-Key", message: "1-255 printable ASCII characters" },
    ]);
  }
  return key;
}

/**
 * IETF Idempotency-Key semantics: the first response is stored and replayed; the same key with another
 * body is 422; a retry while the first request still runs is 409.
 */
export async function withIdempotency(
  principal: string,
  key: string,
  fingerprint: unknown,
  run: () => Promise<StoredResponse>,
): Promise<ReplayableResponse> {
  const requestHash = sha256Hex(canonicalize(fingerprint) ?? "");
  const claimed = await db.idempotencyKey.createManyAndReturn({
    data: [{ principal, key, requestHash }],
    skipDuplicates: true,
  });
  if (!claimed.length) {
    const existing = await db.idempotencyKey.findUnique({ where: { principal_key: { principal, key } } });
    if (!existing) throw new ApiError("conflict", "The idempotency key is being released. Retry.");
    if (existing.requestHash !== requestHash) {
      throw new ApiError("idempotency_key_reused", "This Idempotency-Key was used with a different request.");
    }
    if (existing.responseStatus !== null && existing.responseBody !== null) {
      return { status: existing.responseStatus, json: existing.responseBody, replayed: true };
    }
    const stale = new Date(Date.now() - ABANDONED_AFTER_MS);
    const takenOver = await db.idempotencyKey.updateMany({
      where: { principal, key, responseStatus: null, lockedAt: { lt: stale } },
      data: { lockedAt: new Date() },
    });
    if (takenOver.count !== 1) {
      throw new ApiError("idempotency_request_in_progress", "A request with this Idempotency-Key is still running.");
    }
  }
  let response: StoredResponse;
  try {
    response = await run();
  } catch (error) {
    if (error instanceof ApiError && error.status < 500 && !NOT_REPLAYED.has(error.status)) {
      response = { status: error.status, body: error.toBody() };
    } else {
      await db.idempotencyKey.deleteMany({ where: { principal, key } });
      throw error;
    }
  }
  const json = JSON.stringify(response.body);
  await db.idempotencyKey.update({
    where: { principal_key: { principal, key } },
    data: { responseStatus: response.status, responseBody: json },
  });
  return { status: response.status, json, replayed: false };
}

export async function purgeExpiredIdempotencyKeys(olderThanHours = 24): Promise<number> {
  const { count } = await db.idempotencyKey.deleteMany({
    where: { createdAt: { lt: new Date(Date.now() - olderThanHours * 3_600_000) } },
  });
  return count;
}
