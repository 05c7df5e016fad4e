import { env } from "@/lib/env.mjs";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics/metrics";

/**
 * What the CDN or reverse proxy in front must drop: `hard` tags at once (a batch's own pages must never be served
 * from before its change), `soft` ones marked stale, served while one refetch runs (lists that show many batches).
 */
export type Purge = { hard: string[]; soft: string[] };
export type PurgeTarget = (purge: Purge) => Promise<void>;

const PURGE_TIMEOUT_MS = 2_000;

/**
 * One request per purge, for whatever sits in front: `xkey-purge` and `xkey-softpurge` headers (the Varnish VCL in
 * deploy/), every tag in `Surrogate-Key` and in a JSON `{"tags": [...]}` body (Cloudflare's purge_cache, which has
 * no soft purge), with a bearer token when one is configured.
 */
export function httpPurgeTarget(url: string, method: string, token?: string): PurgeTarget {
  return async ({ hard, soft }) => {
    const tags = [...hard, ...soft];
    const response = await fetch(url, {
      method,
      headers: {
        "content-type": "application/json",
        "surrogate-key": tags.join(" "),
        ...(hard.length ? { "xkey-purge": hard.join(" ") } : {}),
        ...(soft.length ? { "xkey-softpurge": soft.join(" ") } : {}),
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

/**
 * Settles once the cache in front has dropped the tags (so the writer's next read misses there), or after at most
 * 2 s; never rejects: a slow or failing CDN never fails a write, and edges expire the copy within s-maxage anyway.
 */
export async function purgeTags(purge: Purge): Promise<void> {
  if (!purge.hard.length && !purge.soft.length) return;
  await (holder[key] ?? noPurge)(purge).catch((error: unknown) => {
    metrics.errors.inc({ kind: "purge" });
    log.warn({ err: error, ...purge }, "cache purge failed");
  });
}
