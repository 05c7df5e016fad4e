import { randomUUID } from "node:crypto";
import type DataLoader from "dataloader";
import { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import { CircuitBreaker } from "@/lib/cache/circuit-breaker";
import { perTurnLoader } from "@/lib/cache/per-turn-loader";
import { noteWrite, watermark } from "@/lib/db/replica";
import { env } from "@/lib/env.mjs";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics/metrics";
import { inSpan } from "@/lib/observability/tracing/spans";

const L1_TTL_MS = 5 * 60 * 1000;
const L2_TTL_SECONDS = 60 * 60;
const CHANNEL = "cache-invalidations";

export type CacheOptions = {
  /** Dependency tags: `invalidateAll({ tags })` drops every entry carrying one, in every instance. */
  tags?: readonly string[];
  /** Shorter life than the default 5 min in L1 and 1 h in Redis. */
  ttlSeconds?: number;
  /**
   * After `ttlSeconds`, L1 answers for this long more while one reload runs behind the answer, a few entries at a
   * time: entries that expire together neither wait on the database nor reload all at once. Invalidations still drop
   * them at once.
   */
  staleSeconds?: number;
  /** Only in this instance's L1, never in Redis (invalidations still reach it). */
  local?: boolean;
};

type Entry = { value: unknown; tags: readonly string[]; bytes: number; freshUntil: number };
type Fill = { name: string; json: string; ttl: number; tags: readonly string[] };
type Refresh = { loader: () => Promise<unknown>; options: CacheOptions };
/** fence: the sender's newest known write (an LSN); refills after the drop must read at least that far. */
type Invalidation = { origin: string; keys: string[]; tags: string[]; fence?: string };

type Cache = {
  id: string;
  l1: LRUCache<string, Entry>;
  /** tag -> keys in L1 that carry it (may hold keys since replaced; checked on use). */
  tagged: Map<string, Set<string>>;
  redis: Redis | null;
  subscriber: Redis | null;
  breaker: CircuitBreaker;
  inflight: Map<string, Promise<unknown>>;
  generation: LRUCache<string, number>;
  /** Invalidations Redis has not taken yet: those keys and tags are not read from L2 until it has. */
  unsent: { keys: Set<string>; tags: Set<string> };
  /** L2 reads of one turn of the event loop, sent as one MGET. */
  reads: DataLoader<string, string | null> | null;
  /** Write-behind fills of one turn of the event loop, sent as one script. */
  fills: Fill[];
  /** Stale entries waiting to reload, oldest first, and how many reload now. */
  refreshes: Map<string, Refresh>;
  refreshing: number;
};

// Cached values are shared and never changed: each is serialized once, for Redis and for every answer.
const encoded = new WeakMap<object, string>();

/** `JSON.stringify(value)`, once per cached value. */
export function toJson(value: unknown): string {
  if (typeof value !== "object" || value === null) return JSON.stringify(value);
  let json = encoded.get(value);
  if (json === undefined) {
    json = JSON.stringify(value);
    encoded.set(value, json);
  }
  return json;
}

function remember(value: unknown, json: string): void {
  if (typeof value === "object" && value !== null) encoded.set(value, json);
}

function untag(cache: Cache, key: string, entry: Entry): void {
  for (const tag of entry.tags) {
    const keys = cache.tagged.get(tag);
    keys?.delete(key);
    if (keys?.size === 0) cache.tagged.delete(tag);
  }
}

function connect(cache: Cache): void {
  if (!env.REDIS_URL) return;
  const redis = new Redis(env.REDIS_URL, {
    keyPrefix: env.REDIS_KEY_PREFIX,
    commandTimeout: env.REDIS_TIMEOUT_MS,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    // Off: auto-pipelining with rate-limiter-flexible's Lua commands threw an uncaught TypeError ("results[i] is not
    // iterable") under load here, as in ioredis#1931, and that stops the process.
    enableAutoPipelining: false,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  });
  redis.on("error", (error) => log.debug({ err: error }, "redis unavailable"));
  cache.reads = perTurnLoader(async (names: readonly string[]) => {
    const values = await cache.breaker.run(() => redis.mget(...names), null);
    return values ?? names.map(() => null);
  }, 500);
  redis.on("ready", () => void sendUnsent(cache));
  // Subscribed connections cannot run other commands; this one only listens.
  const subscriber = redis.duplicate({ commandTimeout: undefined, enableOfflineQueue: true });
  subscriber.on("error", (error) => log.debug({ err: error }, "redis subscriber unavailable"));
  let subscribedBefore = false;
  subscriber.on("ready", () => {
    // Invalidations published while this connection was down are lost: start L1 afresh.
    if (subscribedBefore) dropLocal(cache, [...cache.l1.keys()], []);
    subscribedBefore = true;
  });
  subscriber.subscribe(env.REDIS_KEY_PREFIX + CHANNEL).catch(() => undefined);
  subscriber.on("message", (_channel, message: string) => {
    try {
      const invalidation = JSON.parse(message) as Invalidation;
      if (invalidation.origin === cache.id) return;
      noteWrite(invalidation.fence);
      dropLocal(cache, invalidation.keys, invalidation.tags);
    } catch (error) {
      log.warn({ err: error }, "ignored a malformed cache invalidation");
    }
  });
  cache.redis = redis;
  cache.subscriber = subscriber;
}

function createCache(): Cache {
  const cache: Cache = {
    id: randomUUID(),
    l1: new LRUCache<string, Entry>({
      max: 10_000,
      // Search pages are far larger than verifications: entries are bounded by their JSON's size too.
      maxSize: env.CACHE_L1_MAX_MB * 1024 * 1024,
      sizeCalculation: (entry) => entry.bytes,
      ttl: L1_TTL_MS,
      dispose: (entry, key, reason) => {
        if (reason !== "set") untag(cache, key, entry);
      },
    }),
    tagged: new Map(),
    redis: null,
    subscriber: null,
    breaker: new CircuitBreaker({
      failures: env.REDIS_BREAKER_FAILURES,
      cooldownMs: env.REDIS_BREAKER_COOLDOWN_MS,
      onChange: (open) => {
        metrics.redisCircuit.set(open ? 1 : 0);
        log.warn({ open }, open ? "redis circuit opened: serving from L1 and the database" : "redis circuit closed");
        if (!open) void sendUnsent(cache);
      },
    }),
    inflight: new Map(),
    generation: new LRUCache({ max: 100_000 }),
    unsent: { keys: new Set(), tags: new Set() },
    reads: null,
    fills: [],
    refreshes: new Map(),
    refreshing: 0,
  };
  connect(cache);
  return cache;
}

// Next's server bundle and server.ts load their own copies of this module: one cache per process.
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

/** The cache's Redis connection (fails fast while Redis is away), for other users of Redis such as rate limits. */
export function cacheRedis(): Redis | null {
  return cache.redis;
}

/**
 * Runs `operation` on Redis behind the cache's circuit breaker: undefined without Redis, while the circuit is open,
 * or when it fails or times out, so callers fall back instead of waiting on a sick Redis.
 */
export function withRedis<T>(operation: (redis: Redis) => Promise<T>): Promise<T | undefined> {
  const redis = cache.redis;
  if (!redis) return Promise.resolve(undefined);
  return cache.breaker.run(() => operation(redis), undefined);
}

function namespace(name: string): string {
  const end = name.indexOf(":");
  return end === -1 ? name : name.slice(0, end);
}

const tagGeneration = (tag: string) => `#${tag}`;

function generationOf(name: string, tags: readonly string[]): number {
  let sum = cache.generation.get(name) ?? 0;
  for (const tag of tags) sum += cache.generation.get(tagGeneration(tag)) ?? 0;
  return sum;
}

function setL1(name: string, value: unknown, options: CacheOptions, json: string): void {
  const tags = options.tags ?? [];
  const { ttlSeconds, staleSeconds = 0 } = options;
  const freshUntil = ttlSeconds && staleSeconds ? Date.now() + ttlSeconds * 1000 : Number.POSITIVE_INFINITY;
  cache.l1.set(
    name,
    { value, tags, bytes: json.length, freshUntil },
    ttlSeconds ? { ttl: (ttlSeconds + staleSeconds) * 1000 } : undefined,
  );
  for (const tag of tags) {
    const keys = cache.tagged.get(tag) ?? new Set<string>();
    keys.add(name);
    cache.tagged.set(tag, keys);
  }
}

function l2Trusted(name: string, tags: readonly string[]): boolean {
  return !cache.unsent.keys.has(name) && !tags.some((tag) => cache.unsent.tags.has(tag));
}

async function readL2(name: string, tags: readonly string[]): Promise<{ value: unknown; json: string } | undefined> {
  // While the circuit is open a miss goes straight to the loader, without waiting a turn for a batch.
  if (!cache.reads || cache.breaker.skipping || !l2Trusted(name, tags)) return undefined;
  const json = await cache.reads.load(name);
  if (json === null) return undefined;
  try {
    return { value: JSON.parse(json), json };
  } catch {
    return undefined;
  }
}

// Each fill: SET with its TTL, then its key added to its tags' sets. One script for a turn's fills is one command
// for ioredis to encode, and it runs whole, so no value lands in Redis without the sets an invalidation reads.
const FILL_SCRIPT = `
local k = 1
for a = 1, #ARGV, 4 do
  redis.call('SET', KEYS[k], ARGV[a], 'EX', ARGV[a + 1])
  local tags = tonumber(ARGV[a + 2])
  for t = 1, tags do
    redis.call('SADD', KEYS[k + t], ARGV[a + 3])
    redis.call('EXPIRE', KEYS[k + t], ${L2_TTL_SECONDS})
  end
  k = k + 1 + tags
end`;

function flushFills(): void {
  const fills = cache.fills.splice(0);
  const redis = cache.redis;
  if (!redis || cache.breaker.open || !fills.length) return;
  const keys: string[] = [];
  const args: (string | number)[] = [];
  for (const { name, json, ttl, tags } of fills) {
    keys.push(name, ...tags.map((tag) => `tag:${tag}`));
    args.push(json, ttl, tags.length, name);
  }
  void cache.breaker.run(() => redis.eval(FILL_SCRIPT, keys.length, ...keys, ...args), null);
}

function writeBehind(name: string, value: unknown, options: CacheOptions): void {
  const json = toJson(value);
  setL1(name, value, options, json);
  if (!cache.redis || cache.breaker.open || options.local) return;
  const ttl = Math.min(options.ttlSeconds ?? L2_TTL_SECONDS, L2_TTL_SECONDS);
  if (cache.fills.push({ name, json, ttl, tags: options.tags ?? [] }) === 1) setImmediate(flushFills);
}

/** The fresh L1 entry alone, without waiting: for the gateway's fast path. */
export function peek<T>(name: string): T | undefined {
  const hit = cache.l1.get(name);
  if (!hit || hit.freshUntil < Date.now()) return undefined;
  metrics.countL1Hit(namespace(name));
  return hit.value as T;
}

/** Runs the load of `name` (from L2 first unless `fromL2` is false) as the one in flight, and keeps its result. */
function load<T>(name: string, loader: () => Promise<T>, options: CacheOptions, fromL2: boolean): Promise<T> {
  const tags = options.tags ?? [];
  const generation = generationOf(name, tags);
  const loading = (async () => {
    const l2 = fromL2 && !options.local ? await readL2(name, tags) : undefined;
    if (l2 !== undefined && generationOf(name, tags) === generation) {
      metrics.cacheRequests.inc({ namespace: namespace(name), result: "l2" });
      remember(l2.value, l2.json);
      setL1(name, l2.value, options, l2.json);
      return l2.value as T;
    }
    metrics.cacheRequests.inc({ namespace: namespace(name), result: "miss" });
    const end = metrics.operationDuration.startTimer({ operation: namespace(name) });
    const missed = { "gl.cache.namespace": namespace(name), "gl.cache.result": "miss" };
    const value = await inSpan(`cache miss ${namespace(name)}`, missed, loader);
    end();
    // An invalidation during the load means the value may predate the change: answer, but do not keep it.
    const current = generationOf(name, tags) === generation;
    if (current && value !== undefined && value !== null) writeBehind(name, value, options);
    return value;
  })().finally(() => {
    if (cache.inflight.get(name) === loading) cache.inflight.delete(name);
  });
  cache.inflight.set(name, loading);
  return loading;
}

// Entries filled together go stale together: hundreds of filtered searches reloading at once took the database and
// both cores from the answers for a second here. They are served stale while a few reload at a time.
const REFRESH_CONCURRENCY = 2;

function refreshNext(): void {
  for (const [name, { loader, options }] of cache.refreshes) {
    if (cache.refreshing >= REFRESH_CONCURRENCY) return;
    cache.refreshes.delete(name);
    // Dropped or reloaded while it waited: nothing left to refresh.
    const entry = cache.l1.peek(name);
    if (!entry || entry.freshUntil >= Date.now() || cache.inflight.has(name)) continue;
    cache.refreshing += 1;
    load(name, loader, options, false)
      .catch((error: unknown) =>
        log.warn({ err: error, name }, "refreshing a stale cache entry failed; it is served until it expires"),
      )
      .finally(() => {
        cache.refreshing -= 1;
        refreshNext();
      });
  }
}

function refreshLater(name: string, refresh: Refresh): void {
  if (cache.refreshes.has(name) || cache.inflight.has(name)) return;
  cache.refreshes.set(name, refresh);
  refreshNext();
}

/** L1 -> L2 -> loader; concurrent misses for one key share one load; fills never block the answer. */
export async function cached<T>(name: string, loader: () => Promise<T>, options: CacheOptions = {}): Promise<T> {
  const hit = cache.l1.get(name);
  if (hit) {
    metrics.cacheRequests.inc({ namespace: namespace(name), result: "l1" });
    // Past its fresh life: reloaded from the loader, not from an L2 copy about as old as this one.
    if (hit.freshUntil < Date.now()) refreshLater(name, { loader, options });
    return hit.value as T;
  }
  const running = cache.inflight.get(name);
  if (running) return running as Promise<T>;
  return load(name, loader, options, true);
}

function dropLocal(target: Cache, keys: readonly string[], tags: readonly string[]): void {
  const names = new Set(keys);
  for (const tag of tags) {
    for (const name of target.tagged.get(tag) ?? []) {
      if (target.l1.peek(name)?.tags.includes(tag)) names.add(name);
    }
    target.tagged.delete(tag);
    target.generation.set(tagGeneration(tag), (target.generation.get(tagGeneration(tag)) ?? 0) + 1);
  }
  for (const name of names) {
    target.l1.delete(name);
    target.inflight.delete(name);
  }
  // A fill still waiting for its turn would otherwise land in Redis after the invalidation.
  const dropped = new Set(tags);
  const kept = target.fills.filter((fill) => !names.has(fill.name) && !fill.tags.some((tag) => dropped.has(tag)));
  target.fills.splice(0, target.fills.length, ...kept);
  for (const name of keys) target.generation.set(name, (target.generation.get(name) ?? 0) + 1);
}

async function removeFromRedis(redis: Redis, keys: readonly string[], tags: readonly string[]): Promise<void> {
  const members = tags.length
    ? ((await redis.multi(tags.map((tag) => ["smembers", `tag:${tag}`])).exec()) ?? []).flatMap(([error, result]) =>
        error ? [] : (result as string[]),
      )
    : [];
  const names = [...new Set([...keys, ...members, ...tags.map((tag) => `tag:${tag}`)])];
  if (names.length) await redis.del(...names);
}

async function publish(from: Cache, redis: Redis, keys: string[], tags: string[]): Promise<void> {
  const message: Invalidation = { origin: from.id, keys, tags, fence: watermark() };
  await redis.publish(env.REDIS_KEY_PREFIX + CHANNEL, JSON.stringify(message));
}

/** Invalidations Redis missed: cleaned from L2 and sent to the other instances once it answers again. */
async function sendUnsent(target: Cache): Promise<void> {
  const redis = target.redis;
  const keys = [...target.unsent.keys];
  const tags = [...target.unsent.tags];
  if (!redis || (!keys.length && !tags.length)) return;
  try {
    await removeFromRedis(redis, keys, tags);
    await publish(target, redis, keys, tags);
    for (const name of keys) target.unsent.keys.delete(name);
    for (const tag of tags) target.unsent.tags.delete(tag);
  } catch (error) {
    log.debug({ err: error }, "redis still away; invalidations kept for later");
  }
}

/** Drops keys and everything tagged with `tags` here, in Redis and (over pub/sub) in every other instance. */
export async function invalidateAll({ keys = [], tags = [] }: { keys?: string[]; tags?: string[] }): Promise<void> {
  dropLocal(cache, keys, tags);
  const redis = cache.redis;
  if (!redis || (!keys.length && !tags.length)) return;
  try {
    await removeFromRedis(redis, keys, tags);
    await publish(cache, redis, keys, tags);
  } catch (error) {
    // Sent again once Redis answers (sendUnsent); until then this instance does not read them from L2.
    metrics.errors.inc({ kind: "redis" });
    log.warn({ reason: (error as Error).message }, "cache invalidation did not reach redis; will retry");
    for (const name of keys) cache.unsent.keys.add(name);
    for (const tag of tags) cache.unsent.tags.add(tag);
  }
}

export async function closeCache(): Promise<void> {
  cache.subscriber?.disconnect();
  cache.redis?.disconnect();
  delete holder[key];
}
