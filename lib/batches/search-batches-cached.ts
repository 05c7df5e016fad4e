import "server-only";
import canonicalize from "canonicalize";
import { SEARCH_TAG } from "@/lib/batches/on-batch-changed";
import type { SearchInput } from "@/lib/batches/schema";
import { type SearchResult, searchBatches } from "@/lib/batches/search-batches";
import { cached, peek, toJson } from "@/lib/cache/tiered-cache";
import { env } from "@/lib/env.mjs";

/** The cache key of a search: the same for every spelling of the same input. */
export function searchKey(input: SearchInput): string {
  return `search:${canonicalize(input)}`;
}

/**
 * Every page of a search, the later ones too: visitors who scroll one query follow the same cursors. Kept for
 * SEARCH_CACHE_SECONDS, then answered as long again while it reloads, and dropped at once on any batch change.
 * Later pages stay in this instance's memory, which bounds them by size: in Redis each would join the `search` tag's
 * set until the next change.
 */
export function searchBatchesCached(input: SearchInput, key = searchKey(input)): Promise<SearchResult> {
  if (env.SEARCH_CACHE_SECONDS === 0) return searchBatches(input);
  return cached(key, () => searchBatches(input), {
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
function answerFor(page: SearchResult): SearchAnswer {
  let answer = answers.get(page);
  if (!answer) {
    const body = Buffer.from(toJson(page));
    answer = { body, headers: { "content-type": "application/json", "content-length": String(body.length) } };
    answers.set(page, answer);
  }
  return answer;
}

export async function searchAnswer(input: SearchInput, key = searchKey(input)): Promise<SearchAnswer> {
  return answerFor(await searchBatchesCached(input, key));
}

/** The answer when its page is fresh in this instance's memory, without waiting; else undefined. */
export function peekSearchAnswer(key: string): SearchAnswer | undefined {
  if (env.SEARCH_CACHE_SECONDS === 0) return undefined;
  const page = peek<SearchResult>(key);
  return page && answerFor(page);
}
