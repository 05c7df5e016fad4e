import type { IncomingMessage } from "node:http";
import type { z } from "zod";
import { ApiError, badRequest, fromZodError } from "@/lib/api/errors";

export const MAX_BODY_BYTES = 64 * 1024;
/**
 * How much of a refused body is read and thrown away so the connection can carry the next request. A longer body is
 * answered with `Connection: close` instead.
 */
export const DISCARD_MAX_BYTES = 1024 * 1024;

function declaredTooLarge(contentLength: string | null | undefined, maxBytes: number): void {
  const declared = Number(contentLength ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes, declared - maxBytes > DISCARD_MAX_BYTES);
}

// A web Request's body is an async iterable of byte chunks. Past maxBytes the rest is still read (and dropped), so
// the next request on the connection can be parsed.
async function readBytes(chunks: AsyncIterable<Uint8Array> | null, maxBytes: number): Promise<Buffer> {
  const read: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks ?? []) {
    size += chunk.byteLength;
    if (size > maxBytes + DISCARD_MAX_BYTES) throw tooLarge(maxBytes, true);
    if (size <= maxBytes) read.push(chunk);
  }
  if (size > maxBytes) throw tooLarge(maxBytes, false);
  return Buffer.concat(read);
}

/** `close`: the rest of the body will not be read, so the connection cannot be used again. */
function tooLarge(maxBytes: number, close: boolean) {
  return new ApiError(
    "bad_request",
    `The body is larger than ${maxBytes} bytes.`,
    [{ path: "(body)", message: `Larger than ${maxBytes} bytes` }],
    close ? { connection: "close" } : {},
  );
}

function requireJson(contentType: string | null | undefined): void {
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType ?? "")) {
    throw badRequest("Send the body as application/json.", [
      { path: "(content-type)", message: "Expected application/json" },
    ]);
  }
}

/** A body's bytes as UTF-8 JSON, checked by `schema`; a 400 in the one error shape when they are not. */
export function parseJsonBody<S extends z.ZodType>(bytes: Buffer, schema: S): z.infer<S> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw badRequest("The body is not valid UTF-8.", [{ path: "(body)", message: "Invalid UTF-8" }]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw badRequest("The body is not valid JSON.", [{ path: "(body)", message: "Malformed JSON" }]);
  }
  return parseWith(schema, raw);
}

export async function readJson<S extends z.ZodType>(
  request: Request,
  schema: S,
  maxBytes = MAX_BODY_BYTES,
): Promise<z.infer<S>> {
  requireJson(request.headers.get("content-type"));
  declaredTooLarge(request.headers.get("content-length"), maxBytes);
  return parseJsonBody(await readBytes(request.body as AsyncIterable<Uint8Array> | null, maxBytes), schema);
}

/**
 * readJson's checks and bounds for a node:http request, in the same order, so the same answers; read with events,
 * not an async iterator, so a body that came with its headers costs no promise. `done` gets the bytes or the error.
 */
export function readIncomingBody(
  request: IncomingMessage,
  done: (error: ApiError | null, bytes?: Buffer) => void,
  maxBytes = MAX_BODY_BYTES,
): void {
  try {
    requireJson(request.headers["content-type"]);
    declaredTooLarge(request.headers["content-length"], maxBytes);
  } catch (error) {
    done(error as ApiError);
    return;
  }
  const read: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer) => {
    size += chunk.byteLength;
    if (size <= maxBytes) read.push(chunk);
    else if (size > maxBytes + DISCARD_MAX_BYTES) {
      // Not read any further: the answer closes the connection.
      request.off("data", onData).off("end", onEnd).pause();
      done(tooLarge(maxBytes, true));
    }
  };
  const onEnd = () => {
    if (size > maxBytes) done(tooLarge(maxBytes, false));
    else done(null, read.length === 1 ? (read[0] as Buffer) : Buffer.concat(read));
  };
  request.on("data", onData).once("end", onEnd);
}

// PostgreSQL cannot store NUL, and hashing (RFC 8785) refuses lone surrogates: refuse both here, not deep inside.
// Iterative, because a 64 KB body can nest deeper than the call stack.
function hasUnstorableText(value: unknown): boolean {
  const bad = (text: string) => text.includes("\u0000") || !text.isWellFormed();
  const pending: unknown[] = [value];
  while (pending.length) {
    const item = pending.pop();
    if (typeof item === "string") {
      if (bad(item)) return true;
    } else if (Array.isArray(item)) {
      pending.push(...item);
    } else if (item && typeof item === "object") {
      for (const [key, child] of Object.entries(item)) {
        if (bad(key)) return true;
        pending.push(child);
      }
    }
  }
  return false;
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, prefix?: string): z.infer<S> {
  if (hasUnstorableText(value)) {
    throw badRequest("Text may not contain NUL characters or unpaired surrogates.", [
      { path: prefix ?? "(body)", message: "Contains U+0000 or an unpaired surrogate" },
    ]);
  }
  const result = schema.safeParse(value);
  if (!result.success) throw fromZodError(result.error, prefix);
  return result.data;
}
