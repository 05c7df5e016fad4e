/** Messages between the farmer pages and the service worker (workers/sw.ts). */
export const PREFETCH_ROUTES = "PREFETCH_ROUTES";

export type PrefetchRoutesMessage = { type: typeof PREFETCH_ROUTES; routes: string[] };

/** Served by the worker when a page is neither on the network nor in a cache. */
export const OFFLINE_PAGE = "/offline";

export const SERVICE_WORKER_URL = "/sw.js";

/** What the farmer pages read from the API; prefetched into the worker's cache on the first visit. */
export const FARMER_API = { farms: "/api/farms", myBatches: "/api/crop-batches?limit=20" } as const;

/** The worker's cache of API answers; it holds the signed-in farmer's data, so sign-out empties it. */
export const API_CACHE = "greenledger-api";

/** Set by the worker on an API answer it took from its cache, so a page can say how old what it shows is. */
export const FROM_CACHE_HEADER = "x-greenledger-from-cache";
