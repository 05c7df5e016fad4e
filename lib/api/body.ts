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

// A web Request's body and a node:http request are both async iterables of byte chunks. Past maxBytes the rest is
// still read (and dropped), so the next request on the connection can be parsed.
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

function parseJsonBytes<S extends z.ZodType>(bytes: Buffer, schema: S): z.infer<S> {
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
  return parseJsonBytes(await readBytes(request.body as AsyncIterable<Uint8Array> | null, maxBytes), schema);
}

/** readJson for a node:http request: the same checks in the same order, so the same answers. */
export async function readIncomingJson<S extends z.ZodType>(
  request: IncomingMessage,
  schema: S,
  maxBytes = MAX_BODY_BYTES,
): Promise<z.infer<S>> {
  requireJson(request.headers["content-type"]);
  declaredTooLarge(request.headers["content-length"], maxBytes);
  // Left early (a body over the bound), the default iterator would destroy the request and with it the socket,
  // before the 400 is written.
  return parseJsonBytes(await readBytes(request.iterator({ destroyOnReturn: false }), maxBytes), schema);
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
