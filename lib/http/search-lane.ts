import type http from "node:http";
import { LRUCache } from "lru-cache";
import { parseJsonBody, readIncomingBody } from "@/lib/api/body";
import type { ApiError } from "@/lib/api/errors";
import { errorResponse } from "@/lib/api/handler";
import { type SearchInput, searchSchema } from "@/lib/batches/schema";
import { peekSearchAnswer, type SearchAnswer, searchAnswer, searchKey } from "@/lib/batches/search-batches-cached";
import { sendWebResponse, withNextVary } from "@/lib/http/answer";
import { metrics } from "@/lib/metrics/metrics";

export const SEARCH_PATH = "/api/crop-batches/search";

/** A search the gateway answers: a query string goes to Next. */
export function isSearch(request: http.IncomingMessage, url: string): boolean {
  return request.method === "POST" && url === SEARCH_PATH;
}

type Asked = { input: SearchInput; key: string };

// Buyers send the same few bodies over and over (the first page, the usual filters): the same bytes always parse,
// validate and canonicalize to the same search, so that work is done once per distinct body.
const MEMO_MAX_BYTES = 1024;
const asked = new LRUCache<string, Asked>({ max: 1_000 });

function parse(bytes: Buffer): Asked {
  const text = bytes.length <= MEMO_MAX_BYTES ? bytes.toString("latin1") : undefined;
  const known = text === undefined ? undefined : asked.get(text);
  if (known) return known;
  const input = parseJsonBody(bytes, searchSchema);
  const parsed = { input, key: searchKey(input) };
  if (text !== undefined) asked.set(text, parsed);
  return parsed;
}

function send(response: http.ServerResponse, answer: SearchAnswer): void {
  response.writeHead(200, withNextVary(answer.headers));
  response.end(answer.body);
}

function fail(response: http.ServerResponse, error: unknown): void {
  void sendWebResponse(response, errorResponse(error));
}

/**
 * A search answered here as app/api/crop-batches/search/route.ts answers it (the same reading of the body, the same
 * cached page, the same errors), without a web Request and Response per call. A page fresh in memory goes out in the
 * turn its body arrived, with no promise; any other waits for the tiered cache.
 */
export function serveSearch(request: http.IncomingMessage, response: http.ServerResponse): void {
  metrics.gatewayRoutes.inc({ route: SEARCH_PATH });
  readIncomingBody(request, (error: ApiError | null, bytes?: Buffer) => {
    if (error || !bytes) return fail(response, error);
    let search: Asked;
    try {
      search = parse(bytes);
    } catch (parseError) {
      return fail(response, parseError);
    }
    const ready = peekSearchAnswer(search.key);
    if (ready) return send(response, ready);
    searchAnswer(search.input, search.key).then(
      (answer) => send(response, answer),
      (loadError: unknown) => fail(response, loadError),
    );
  });
}
