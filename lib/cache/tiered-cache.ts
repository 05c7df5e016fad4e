import { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import { env } from "@/lib/env.mjs";
import { log } from "@/lib/log";

const L1_TTL_MS = 5 * 60 * 1000;
const L2_TTL_SECONDS = 60 * 60;

type Cache = {
  l1: LRUCache<string, { value: unknown }>;
  redis: Redis | null;
  inflight: Map<string, Promise<unknown>>;
  generation: LRUCache<string, number>;
};

function createCache(): Cache {
  const redis = env.REDIS_URL
    ? new Redis(env.REDIS_URL, {
        keyPrefix: env.REDIS_KEY_PREFIX,
        commandTimeout: 50,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        lazyConnect: false,
      })
    : null;
  redis?.on("error", (error) => log.debug({ err: error }, "redis unavailable"));
  return {
    l1: new LRUCache({ max: 10_000, ttl: L1_TTL_MS }),
    redis,
    inflight: new Map(),
    generation: new LRUCache({ max: 100_000 }),
  };
}

const key = Symbol.for("greenledger.cache");
const holder = globalThis as typeof globalThis & { [key]?: Cache };
holder[key] ??= createCache();
const cache = holder[key];

export function cacheKind(): "memory" | "redis" {
  return cache.redis ? "redis" : "memory";
}

export async function pingCache(): Promise<boolean> {
  if (!cache.redis) return true;
  return cache.redis.ping().then(
    () => true,
    () => false,
  );
}

async function readL2(name: string): Promise<unknown> {
  if (!cache.redis) return undefined;
  try {
    const raw = await cache.redis.get(name);
    return raw === null ? undefined : JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function writeBehind(name: string, value: unknown): void {
  cache.l1.set(name, { value });
  cache.redis?.set(name, JSON.stringify(value), "EX", L2_TTL_SECONDS).catch(() => undefined);
}

/** L1 -> L2 -> loader; concurrent misses for one key share one load; fills never block the answer. */
export async function cached<T>(name: string, loader: () => Promise<T>): Promise<T> {
  const hit = cache.l1.get(name);
  if (hit) return hit.value as T;
  const running = cache.inflight.get(name);
  if (running) return running as Promise<T>;
  const generation = cache.generation.get(name) ?? 0;
  const load = (async () => {
    const fromL2 = await readL2(name);
    if (fromL2 !== undefined) {
      cache.l1.set(name, { value: fromL2 });
      return fromL2 as T;
    }
    const value = await loader();
    // An invalidation during the load means the value may predate the change: answer, but do not keep it.
    const current = (cache.generation.get(name) ?? 0) === generation;
    if (current && value !== undefined && value !== null) writeBehind(name, value);
    return value;
  })().finally(() => cache.inflight.delete(name));
  cache.inflight.set(name, load);
  return load;
}

export async function invalidate(...names: string[]): Promise<void> {
  for (const name of names) {
    cache.l1.delete(name);
    cache.inflight.delete(name);
    cache.generation.set(name, (cache.generation.get(name) ?? 0) + 1);
  }
  if (cache.redis && names.length) await cache.redis.del(...names).catch(() => undefined);
}

export async function closeCache(): Promise<void> {
  cache.redis?.disconnect();
  delete holder[key];
}
