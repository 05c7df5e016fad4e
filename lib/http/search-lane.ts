import type http from "node:http";
import { readIncomingJson } from "@/lib/api/body";
import { errorResponse } from "@/lib/api/handler";
import { searchSchema } from "@/lib/batches/schema";
import { searchAnswer } from "@/lib/batches/search-batches-cached";
import { sendWebResponse, withNextVary } from "@/lib/http/answer";
import { metrics } from "@/lib/metrics/metrics";

const SEARCH_PATH = "/api/crop-batches/search";

/**
 * A search answered here as app/api/crop-batches/search/route.ts answers it (the same reading of the body, the same
 * cached page, the same errors), without a web Request and Response per call. A query string goes to Next.
 */
export async function serveSearch(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  url: string,
): Promise<boolean> {
  if (request.method !== "POST" || url !== SEARCH_PATH) return false;
  metrics.gatewayRoutes.inc({ route: SEARCH_PATH });
  try {
    const answer = await searchAnswer(await readIncomingJson(request, searchSchema));
    response.writeHead(200, withNextVary(answer.headers));
    response.end(answer.body);
  } catch (error) {
    await sendWebResponse(response, errorResponse(error));
  }
  return true;
}
