import { env } from "@/lib/env.mjs";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics/metrics";

/** Tells the CDN or reverse proxy in front to drop what it keeps under these cache tags. */
export type PurgeTarget = (tags: string[]) => Promise<void>;

const PURGE_TIMEOUT_MS = 2_000;

/**
 * One request per purge: JSON `{"tags": [...]}` (Cloudflare's purge_cache body) and the same tags in a
 * `Surrogate-Key` header (Fastly, Varnish xkey), with a bearer token when one is configured.
 */
export function httpPurgeTarget(url: string, method: string, token?: string): PurgeTarget {
  return async (tags) => {
    const response = await fetch(url, {
      method,
      headers: {
        "content-type": "application/json",
        "surrogate-key": tags.join(" "),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ tags }),
      signal: AbortSignal.timeout(PURGE_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`purge endpoint answered ${response.status}`);
  };
}

const noPurge: PurgeTarget = async () => undefined;

// Next's route code and server.ts (the chain indexer) both change batches: one target per process.
const key = Symbol.for("greenledger.purge");
const holder = globalThis as typeof globalThis & { [key]?: PurgeTarget };
holder[key] ??= env.PURGE_URL ? httpPurgeTarget(env.PURGE_URL, env.PURGE_METHOD, env.PURGE_TOKEN) : noPurge;

export function setPurgeTarget(target: PurgeTarget): void {
  holder[key] = target;
}

/** Fire and forget: a slow or failing CDN never delays a write; edges expire the copy within s-maxage anyway. */
export function purgeTags(tags: string[]): void {
  if (!tags.length) return;
  (holder[key] ?? noPurge)(tags).catch((error: unknown) => {
    metrics.errors.inc({ kind: "purge" });
    log.warn({ err: error, tags }, "cache purge failed");
  });
}
