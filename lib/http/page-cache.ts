import type http from "node:http";
import { SESSION_COOKIE } from "@/lib/auth/session";
import { ANALYTICS_TAG, SEARCH_TAG } from "@/lib/batches/on-batch-changed";
import { cached, peek } from "@/lib/cache/tiered-cache";

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

type StoredPage = { status: number; headers: http.OutgoingHttpHeaders; body: Buffer };

const PAGE_TTL_SECONDS = 300;
const PAGE_MAX_BYTES = 2 * 1024 * 1024;
// A client-side navigation asks for the same URL's RSC payload with these headers: never answered with HTML.
const RSC_HEADERS = ["rsc", "next-router-state-tree", "next-router-prefetch", "next-router-segment-prefetch"];

/** The cache key of an anonymous GET of a list page's first page, or undefined when the answer may differ. */
function pageKey(request: http.IncomingMessage, url: string): string | undefined {
  if (request.method !== "GET" || !listPages.has(url)) return undefined;
  if (RSC_HEADERS.some((name) => request.headers[name] !== undefined)) return undefined;
  if (request.headers.cookie?.includes(`${SESSION_COOKIE}=`)) return undefined;
  // Next compresses when the client accepts it: one copy per encoding.
  const gzip = /\bgzip\b/.test(request.headers["accept-encoding"] ?? "");
  return `page:${url}:${gzip ? "gzip" : "identity"}`;
}

function send(response: http.ServerResponse, page: StoredPage): void {
  response.writeHead(page.status, { ...page.headers, "x-cache": "hit" });
  response.end(page.body);
}

/** Lets Next render into `response` and keeps what it sent, when it is a public 200 small enough to keep. */
async function capture(response: http.ServerResponse, render: () => Promise<void>): Promise<StoredPage | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  const write = response.write.bind(response) as (...args: unknown[]) => boolean;
  const end = response.end.bind(response) as (...args: unknown[]) => http.ServerResponse;
  const keep = (chunk: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === "function") return;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string | Uint8Array);
    size += bytes.length;
    if (size <= PAGE_MAX_BYTES) chunks.push(bytes);
  };
  response.write = ((chunk: unknown, ...rest: unknown[]) => {
    keep(chunk);
    return write(chunk, ...rest);
  }) as typeof response.write;
  response.end = ((chunk?: unknown, ...rest: unknown[]) => {
    keep(chunk);
    return end(chunk, ...rest);
  }) as typeof response.end;
  const finished = new Promise((resolve) => response.once("close", resolve));
  await render();
  await finished;
  const headers = response.getHeaders();
  const cacheable =
    response.statusCode === 200 &&
    response.writableFinished &&
    size <= PAGE_MAX_BYTES &&
    /\bpublic\b/.test(String(headers["cache-control"]));
  if (!cacheable) return null;
  delete headers.date;
  return { status: 200, headers, body: Buffer.concat(chunks) };
}

/**
 * The first page of /marketplace and /analytics for an anonymous visitor, kept in this instance's memory: a repeat
 * is answered from it and concurrent first visits share one render. Without a shared cache in front (npm start) this
 * is what keeps those pages fast; any batch change drops them with the search and analytics caches. True when the
 * answer was sent here or rendered through `render`.
 */
export async function servePageCached(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  url: string,
  render: () => Promise<void>,
): Promise<boolean> {
  const key = pageKey(request, url);
  if (!key) return false;
  const kept = peek<StoredPage>(key);
  if (kept) {
    send(response, kept);
    return true;
  }
  let rendered = false;
  const tag = url === "/analytics" ? ANALYTICS_TAG : SEARCH_TAG;
  const page = await cached(
    key,
    () => {
      rendered = true;
      return capture(response, render);
    },
    { tags: [tag], ttlSeconds: PAGE_TTL_SECONDS, local: true },
  );
  if (rendered) return true;
  if (page) send(response, page);
  else await render();
  return true;
}
