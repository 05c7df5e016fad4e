import "server-only";
import canonicalize from "canonicalize";
import { ApiError, badRequest } from "@/lib/api/errors";
import { sha256Hex } from "@/lib/batches/content-hash";
import { db } from "@/lib/db/client";
import { Prisma } from "@/lib/generated/prisma/client";

// A request that meets its key held by a transaction still running waits this long for it to commit (and replays
// its answer) or roll back (and does the work itself); holders are short write transactions.
const WAIT_FOR_HOLDER_MS = 2_000;
// Such waiters hold their connections meanwhile, so a burst on one key can make other requests queue for a
// connection that long too: they wait as long as the pool's own connection timeout, not Prisma's default 2 s.
const WAIT_FOR_CONNECTION_MS = 10_000;
// Answers about the caller's situation rather than the request: a retry may rightly get another answer.
const NOT_REPLAYED = new Set([401, 403, 409, 429]);

export type StoredResponse = { status: number; body: unknown };
/** The response as first sent, byte for byte, so a replay is identical. */
export type ReplayableResponse = { status: number; json: string; replayed: boolean };
type KeyRow = { requestHash: string; responseStatus: number | null; responseBody: string | null };

/** Runs a verb's writes as one transaction; `withIdempotency` passes one that also holds the key. */
export type Transaction<T> = (work: (tx: Prisma.TransactionClient) => Promise<T>) => Promise<T>;

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

/** The key was already finished by another request: its stored row, read inside the claiming transaction. */
class AlreadyFinished extends Error {
  constructor(readonly row: KeyRow) {
    super("idempotency key already finished");
  }
}

function replay(row: KeyRow, requestHash: string): ReplayableResponse {
  if (row.requestHash !== requestHash) {
    throw new ApiError("idempotency_key_reused", "This Idempotency-Key was used with a different request.");
  }
  if (row.responseStatus === null || row.responseBody === null) {
    throw new Error("An idempotency key was committed without its response");
  }
  return { status: row.responseStatus, json: row.responseBody, replayed: true };
}

/** PostgreSQL's lock_not_available (55P03), as Prisma's pg adapter reports it. */
function isLockTimeout(error: unknown): boolean {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return false;
  const cause = (error.meta?.driverAdapterError as { cause?: { originalCode?: string } } | undefined)?.cause;
  return cause?.originalCode === "55P03";
}

/**
 * IETF Idempotency-Key semantics: the first response is stored and replayed; the same key with another body is
 * 422; a retry while the first request still runs waits for it briefly, then is 409. The key is claimed inside
 * the work's own transaction (`run` must do its writes through the `transaction` it is given), so an attempt
 * that never committed, a database crash included, leaves nothing behind to block its retry.
 */
export async function withIdempotency<T>(
  principal: string,
  key: string,
  fingerprint: unknown,
  respond: (result: T) => StoredResponse,
  run: (transaction: Transaction<T>) => Promise<T>,
): Promise<ReplayableResponse> {
  const requestHash = sha256Hex(canonicalize(fingerprint) ?? "");
  const where = { principal_key: { principal, key } };
  const finished = await db.idempotencyKey.findUnique({ where });
  if (finished) return replay(finished, requestHash);

  let sent: ReplayableResponse | undefined;
  const transaction: Transaction<T> = (work) =>
    db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT set_config('lock_timeout', ${`${WAIT_FOR_HOLDER_MS}ms`}, true)`;
        const claimed = await tx.idempotencyKey.createManyAndReturn({
          data: [{ principal, key, requestHash }],
          skipDuplicates: true,
        });
        if (!claimed.length) throw new AlreadyFinished(await tx.idempotencyKey.findUniqueOrThrow({ where }));
        const result = await work(tx);
        const response = respond(result);
        sent = { status: response.status, json: JSON.stringify(response.body), replayed: false };
        await tx.idempotencyKey.update({ where, data: { responseStatus: sent.status, responseBody: sent.json } });
        return result;
      },
      { maxWait: WAIT_FOR_CONNECTION_MS },
    );

  try {
    await run(transaction);
  } catch (error) {
    if (error instanceof AlreadyFinished) return replay(error.row, requestHash);
    if (isLockTimeout(error)) {
      throw new ApiError("idempotency_request_in_progress", "A request with this Idempotency-Key is still running.");
    }
    if (!(error instanceof ApiError) || error.status >= 500 || NOT_REPLAYED.has(error.status)) throw error;
    // A refusal wrote nothing (its transaction, if any, rolled back): it is stored on its own.
    const json = JSON.stringify(error.toBody());
    const stored = await db.idempotencyKey.createManyAndReturn({
      data: [{ principal, key, requestHash, responseStatus: error.status, responseBody: json }],
      skipDuplicates: true,
    });
    if (!stored.length) return replay(await db.idempotencyKey.findUniqueOrThrow({ where }), requestHash);
    return { status: error.status, json, replayed: false };
  }
  if (!sent) throw new Error("An idempotent request finished without its transaction");
  return sent;
}

export async function purgeExpiredIdempotencyKeys(olderThanHours = 24): Promise<number> {
  const { count } = await db.idempotencyKey.deleteMany({
    where: { createdAt: { lt: new Date(Date.now() - olderThanHours * 3_600_000) } },
  });
  return count;
}
