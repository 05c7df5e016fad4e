/// <reference lib="webworker" />
import {
  CacheFirst,
  ExpirationPlugin,
  NetworkFirst,
  type PrecacheEntry,
  type RouteMatchCallbackOptions,
  Serwist,
  type SerwistPlugin,
  StaleWhileRevalidate,
} from "serwist";
import { SYNC_TAG } from "@/lib/offline/outbox";
import { replayOutbox } from "@/lib/offline/replay";
import {
  API_CACHE,
  FROM_CACHE_HEADER,
  OFFLINE_PAGE,
  PREFETCH_ROUTES,
  type PrefetchRoutesMessage,
} from "@/lib/offline/worker-messages";

// TypeScript's WebWorker lib has no Background Sync types.
interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
  readonly lastChance: boolean;
}

declare const self: ServiceWorkerGlobalScope & { __SW_MANIFEST: (PrecacheEntry | string)[] | undefined };

const sameOrigin = (match: (path: string) => boolean) => (options: RouteMatchCallbackOptions) =>
  options.sameOrigin && options.request.method === "GET" && match(options.url.pathname);

const isVerification = (path: string) =>
  path.startsWith("/api/verify/") || path.startsWith("/verify/") || path.startsWith("/01/");
const isStatic = (path: string) =>
  path.startsWith("/_next/static/") || path.startsWith("/icons/") || /\.(?:svg|png|ico|woff2?)$/.test(path);
// A live stream goes to the network untouched: a stored or timed-out copy of it is no stream.
const isLive = (path: string) => /^\/api\/crop-batches\/[^/]+\/live$/.test(path);
// Nonces and sessions change on every sign-in: an answer from the cache would be a wrong one.
const isApi = (path: string) => path.startsWith("/api/") && !path.startsWith("/api/auth/") && !isLive(path);

// The cached answer keeps the server's Date header: with this mark the page can show "as of" that time.
const markFromCache: SerwistPlugin = {
  cachedResponseWillBeUsed: async ({ cachedResponse }) => {
    if (!cachedResponse) return cachedResponse;
    const headers = new Headers(cachedResponse.headers);
    headers.set(FROM_CACHE_HEADER, "1");
    return new Response(cachedResponse.body, {
      status: cachedResponse.status,
      statusText: cachedResponse.statusText,
      headers,
    });
  },
};

const serwist = new Serwist({
  precacheEntries: self.__SW_MANIFEST,
  // A new worker waits until the page says the farmer chose to reload (workbox-window's messageSkipWaiting).
  skipWaiting: false,
  clientsClaim: true,
  runtimeCaching: [
    {
      matcher: sameOrigin(isVerification),
      handler: new StaleWhileRevalidate({
        cacheName: "greenledger-verify",
        plugins: [new ExpirationPlugin({ maxEntries: 200, maxAgeSeconds: 30 * 24 * 3600 })],
      }),
    },
    {
      matcher: sameOrigin(isStatic),
      handler: new CacheFirst({
        cacheName: "greenledger-static",
        plugins: [new ExpirationPlugin({ maxEntries: 300, maxAgeSeconds: 365 * 24 * 3600 })],
      }),
    },
    {
      matcher: sameOrigin(isApi),
      handler: new NetworkFirst({
        cacheName: API_CACHE,
        networkTimeoutSeconds: 3,
        plugins: [new ExpirationPlugin({ maxEntries: 200, maxAgeSeconds: 7 * 24 * 3600 }), markFromCache],
      }),
    },
    {
      matcher: sameOrigin((path) => !path.startsWith("/api/")),
      handler: new NetworkFirst({
        cacheName: "greenledger-pages",
        networkTimeoutSeconds: 3,
        plugins: [new ExpirationPlugin({ maxEntries: 100, maxAgeSeconds: 30 * 24 * 3600 })],
      }),
    },
  ],
  fallbacks: {
    entries: [{ url: OFFLINE_PAGE, matcher: ({ request }) => request.destination === "document" }],
  },
});

async function prefetch(routes: string[], event: ExtendableMessageEvent): Promise<void> {
  await Promise.all(
    routes.map(async (route) => {
      const url = new URL(route, self.location.origin);
      if (url.origin !== self.location.origin) return;
      await serwist
        .handleRequest({ request: new Request(url, { credentials: "same-origin" }), event })
        ?.catch(() => {});
    }),
  );
}

self.addEventListener("message", (event) => {
  const data = event.data as PrefetchRoutesMessage | undefined;
  if (data?.type === PREFETCH_ROUTES && Array.isArray(data.routes)) {
    event.waitUntil(prefetch(data.routes.filter((route) => typeof route === "string").slice(0, 50), event));
  }
});

self.addEventListener("sync", (event) => {
  const sync = event as SyncEvent;
  if (sync.tag !== SYNC_TAG) return;
  sync.waitUntil(
    replayOutbox({ ignoreBackoff: true }).then((result) => {
      // A rejected promise asks the browser to fire the sync again later; the page also retries on its own.
      if (result.waiting > 0 && !result.signedOut) throw new Error(`${result.waiting} batches still waiting`);
    }),
  );
});

// Not held in waitUntil: activation (and the pages' fetches) must not wait for a slow network.
self.addEventListener("activate", () => {
  replayOutbox({ ignoreBackoff: true }).catch(() => {});
});

serwist.addEventListeners();
