import type http from "node:http";

/** Surrogate keys of the public list pages: any batch change soft-purges them (lib/batches/on-batch-changed.ts). */
export const MARKET_PAGE_TAG = "market";
export const ANALYTICS_PAGE_TAG = "analytics";

// Browsers always revalidate; a shared cache keeps the page 5 min and serves it stale while it refetches. Purges,
// not the TTL, make a change show.
const LIST_CACHE_CONTROL = "public, max-age=0, s-maxage=300, stale-while-revalidate=600";

const listPages = new Map([
  ["/marketplace", MARKET_PAGE_TAG],
  ["/analytics", ANALYTICS_PAGE_TAG],
]);

/** The shared-cache headers of a public list page Next renders, or undefined for any other path. */
export function listPageCacheHeaders(pathname: string): Record<string, string> | undefined {
  const tag = listPages.get(pathname);
  return tag ? { "cache-control": LIST_CACHE_CONTROL, "surrogate-key": tag, "cache-tag": tag } : undefined;
}

/**
 * Replaces Next's `private, no-store` on a 200 with `headers` as the answer goes out: Next sets its cache policy just
 * before writing, and a public page's bytes are the same for everyone.
 */
export function cachePublicly(response: http.ServerResponse, headers: Record<string, string>): void {
  const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => http.ServerResponse;
  response.writeHead = ((statusCode: number, ...rest: unknown[]) => {
    if (statusCode === 200) for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
    return writeHead(statusCode, ...rest);
  }) as typeof response.writeHead;
}
