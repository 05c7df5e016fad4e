import { invalidateAll } from "@/lib/cache/tiered-cache";
import { fenceWrite } from "@/lib/db/client";
import { ANALYTICS_PAGE_TAG, MARKET_PAGE_TAG } from "@/lib/http/page-cache";
import { purgeTags } from "@/lib/http/purge";
import { tokenTag } from "@/lib/verify/verification-response";

export function verificationKey(tokenId: number | bigint): string {
  return `verify:${tokenId}`;
}

/** Cache tags of the things a batch change makes stale besides its own verification. */
export const SEARCH_TAG = "search";
export const ANALYTICS_TAG = "analytics";

/**
 * Every write to a batch ends here, so what depends on it is dropped in one place: its verification, the cached
 * search pages and analytics (in every instance), and the copies edges keep (purge). Called after the commit.
 */
export async function onBatchChanged(...tokenIds: (number | bigint)[]): Promise<void> {
  // Refills after the drop must not come from a replica that has not replayed the change yet.
  await fenceWrite();
  await invalidateAll({ keys: tokenIds.map(verificationKey), tags: [SEARCH_TAG, ANALYTICS_TAG] });
  // After the instances' own caches: a shared cache that refetches at once must not get their old copies.
  await purgeTags({ hard: tokenIds.map(tokenTag), soft: [MARKET_PAGE_TAG, ANALYTICS_PAGE_TAG] });
}
