import type http from "node:http";
import { errorResponse } from "@/lib/api/handler";
import { verificationKey } from "@/lib/batches/on-batch-changed";
import { TOKEN_ID_TEXT, tokenIdSchema } from "@/lib/batches/schema";
import { peek } from "@/lib/cache/tiered-cache";
import { sendWebResponse, withNextVary } from "@/lib/http/answer";
import { metrics } from "@/lib/metrics/metrics";
import { getVerification, type Verification } from "@/lib/verify/get-verification";
import { verificationAnswer } from "@/lib/verify/verification-response";

const apiVerifyPath = /^\/api\/verify\/([^/?]+)$/;
const plainIdPath = /^\/api\/verify\/(\d+)$/;

/** The token of a `GET /api/verify/{digits}` with no query string, which needs no decoding; else undefined. */
export function plainVerificationId(request: http.IncomingMessage, url: string): number | undefined {
  if (request.method !== "GET") return undefined;
  const digits = plainIdPath.exec(url)?.[1];
  // tokenIdSchema's rule without a parse per request.
  if (!digits || !TOKEN_ID_TEXT.test(digits)) return undefined;
  const tokenId = Number(digits);
  return Number.isSafeInteger(tokenId) ? tokenId : undefined;
}

function send(request: http.IncomingMessage, response: http.ServerResponse, verification: Verification): void {
  const answer = verificationAnswer(verification, request.headers["if-none-match"]);
  metrics.countFastAnswer();
  response.writeHead(answer.status, withNextVary(answer.headers));
  response.end(answer.body ?? undefined);
}

/** Answers a cached verification at once (true), or false when it is not in this instance's memory. */
export function answerCachedVerification(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  tokenId: number,
): boolean {
  const verification = peek<Verification>(verificationKey(tokenId));
  if (!verification) return false;
  send(request, response, verification);
  return true;
}

/**
 * A verification answered here, byte for byte what the Next route answers (same body, validators and cache headers,
 * and the same error answer for an unknown token or a failed lookup), without Next's per-request cost: from memory
 * when cached, else loaded through the cache. Bad ids and query strings go to Next.
 */
export async function serveVerification(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  url: string,
): Promise<boolean> {
  if (request.method !== "GET") return false;
  const match = url.match(apiVerifyPath);
  if (!match) return false;
  const tokenId = tokenIdSchema.safeParse(decodeURIComponent(match[1] ?? ""));
  if (!tokenId.success) return false;
  if (answerCachedVerification(request, response, tokenId.data)) return true;
  let verification: Verification;
  try {
    verification = await getVerification(tokenId.data);
  } catch (error) {
    // The route's own error answer: an unknown token is not looked up a second time in Next.
    await sendWebResponse(response, errorResponse(error));
    return true;
  }
  send(request, response, verification);
  return true;
}
