import "server-only";
import canonicalize from "canonicalize";
import { SEARCH_TAG } from "@/lib/batches/on-batch-changed";
import type { SearchInput } from "@/lib/batches/schema";
import { type SearchResult, searchBatches } from "@/lib/batches/search-batches";
import { cached } from "@/lib/cache/tiered-cache";
import { env } from "@/lib/env.mjs";

/**
 * First pages (no cursor, no offset) are what most visitors ask for: kept for SEARCH_CACHE_SECONDS and dropped on
 * any batch change. Later pages go to the database, where keyset pagination keeps them as cheap as the first.
 */
export function searchBatchesCached(input: SearchInput): Promise<SearchResult> {
  if (input.cursor || input.offset || env.SEARCH_CACHE_SECONDS === 0) return searchBatches(input);
  return cached(`search:${canonicalize(input)}`, () => searchBatches(input), {
    tags: [SEARCH_TAG],
    ttlSeconds: env.SEARCH_CACHE_SECONDS,
  });
}
