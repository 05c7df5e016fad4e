import type http from "node:http";
import { errorResponse } from "@/lib/api/handler";
import { verificationKey } from "@/lib/batches/on-batch-changed";
import { tokenIdSchema } from "@/lib/batches/schema";
import { peek } from "@/lib/cache/tiered-cache";
import { NEXT_VARY, sendWebResponse } from "@/lib/http/answer";
import { metrics } from "@/lib/metrics/metrics";
import { getVerification, type Verification } from "@/lib/verify/get-verification";
import { verificationAnswer } from "@/lib/verify/verification-response";

const apiVerifyPath = /^\/api\/verify\/([^/?]+)$/;

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
  let verification = peek<Verification>(verificationKey(tokenId.data));
  if (!verification) {
    try {
      verification = await getVerification(tokenId.data);
    } catch (error) {
      // The route's own error answer: an unknown token is not looked up a second time in Next.
      await sendWebResponse(response, errorResponse(error));
      return true;
    }
  }
  const answer = verificationAnswer(verification, request.headers["if-none-match"]);
  metrics.fastPath.inc();
  response.writeHead(answer.status, { vary: NEXT_VARY, ...answer.headers });
  response.end(answer.body ?? undefined);
  return true;
}
