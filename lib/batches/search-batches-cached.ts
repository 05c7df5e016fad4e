import "server-only";
import canonicalize from "canonicalize";
import { SEARCH_TAG } from "@/lib/batches/on-batch-changed";
import type { SearchInput } from "@/lib/batches/schema";
import { type SearchResult, searchBatches } from "@/lib/batches/search-batches";
import { cached, toJson } from "@/lib/cache/tiered-cache";
import { env } from "@/lib/env.mjs";

/**
 * Every page of a search, the later ones too: visitors who scroll one query follow the same cursors. Kept for
 * SEARCH_CACHE_SECONDS, then answered as long again while it reloads, and dropped at once on any batch change.
 * Later pages stay in this instance's memory, which bounds them by size: in Redis each would join the `search` tag's
 * set until the next change.
 */
export function searchBatchesCached(input: SearchInput): Promise<SearchResult> {
  if (env.SEARCH_CACHE_SECONDS === 0) return searchBatches(input);
  return cached(`search:${canonicalize(input)}`, () => searchBatches(input), {
    tags: [SEARCH_TAG],
    ttlSeconds: env.SEARCH_CACHE_SECONDS,
    staleSeconds: env.SEARCH_CACHE_SECONDS,
    local: Boolean(input.cursor || input.offset),
  });
}

export type SearchAnswer = { body: Buffer<ArrayBuffer>; headers: Record<string, string> };

// A cached page is one object until it expires or is dropped: encoded once, not per request.
const answers = new WeakMap<SearchResult, SearchAnswer>();

/** The answer's body and headers; with its length the page goes out in one write, not chunked. */
export async function searchAnswer(input: SearchInput): Promise<SearchAnswer> {
  const page = await searchBatchesCached(input);
  let answer = answers.get(page);
  if (!answer) {
    const body = Buffer.from(toJson(page));
    answer = { body, headers: { "content-type": "application/json", "content-length": String(body.length) } };
    answers.set(page, answer);
  }
  return answer;
}
