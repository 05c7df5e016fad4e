import type { z } from "zod";
import { badRequest, fromZodError } from "@/lib/api/errors";

export const MAX_BODY_BYTES = 64 * 1024;

async function readText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw badRequest("The body is not valid UTF-8.", [{ path: "(body)", message: "Invalid UTF-8" }]);
  }
}

function tooLarge(maxBytes: number) {
  return badRequest(`The body is larger than ${maxBytes} bytes.`, [
    { path: "(body)", message: `Larger than ${maxBytes} bytes` },
  ]);
}

export async function readJson<S extends z.ZodType>(
  request: Request,
  schema: S,
  maxBytes = MAX_BODY_BYTES,
): Promise<z.infer<S>> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
    throw badRequest("Send the body as application/json.", [
      { path: "(content-type)", message: "Expected application/json" },
    ]);
  }
  const text = await readText(request, maxBytes);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw badRequest("The body is not valid JSON.", [{ path: "(body)", message: "Malformed JSON" }]);
  }
  return parseWith(schema, raw);
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
