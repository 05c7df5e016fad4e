import { LRUCache } from "lru-cache";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { ApiError } from "@/lib/api/errors";
import { cacheRedis, withRedis } from "@/lib/cache/tiered-cache";
import { env } from "@/lib/env.mjs";
import { metrics } from "@/lib/metrics/metrics";

/**
 * ip: every caller of the public API, by address. session: writes, by the signed-in wallet. positions: a
 * transporter's position batches (one per fix every ~5 s, with a small burst for a phone back online).
 */
export type RateLimitScope = "ip" | "session" | "positions";

const limits: Record<RateLimitScope, { points: number; duration: number }> = {
  ip: { points: env.RATE_LIMIT_PUBLIC_POINTS, duration: env.RATE_LIMIT_PUBLIC_SECONDS },
  session: { points: env.RATE_LIMIT_WRITE_POINTS, duration: env.RATE_LIMIT_WRITE_SECONDS },
  positions: { points: env.RATE_LIMIT_POSITIONS_POINTS, duration: env.RATE_LIMIT_POSITIONS_SECONDS },
};

const refusals: Record<RateLimitScope, string> = {
  ip: "Too many requests from your address.",
  session: "Too many changes from your session.",
  positions: "Too many position updates: send one batch every few seconds.",
};

type Limiter = { memory: RateLimiterMemory; redis: RateLimiterRedis | null };

function createLimiter(scope: RateLimitScope): Limiter {
  const redis = cacheRedis();
  return {
    memory: new RateLimiterMemory({ ...limits[scope], keyPrefix: `rl-${scope}` }),
    // No insuranceLimiter: a Redis failure must reach the cache's circuit breaker, which then skips Redis.
    redis: redis
      ? new RateLimiterRedis({
          ...limits[scope],
          storeClient: redis,
          keyPrefix: `rl-${scope}`,
          rejectIfRedisNotReady: true,
        })
      : null,
  };
}

type Limiters = Partial<Record<RateLimitScope, Limiter>>;
// Next's route code and the gateway in server.ts share one count per process.
const key = Symbol.for("greenledger.rate-limits");
const holder = globalThis as typeof globalThis & { [key]?: Limiters };
holder[key] ??= {};
const limiters = holder[key];

type Outcome = { allowed: boolean; msBeforeNext: number };

// rate-limiter-flexible rejects with a RateLimiterRes when the allowance is used up, and with an Error on failure.
function settle(consumption: Promise<RateLimiterRes>): Promise<Outcome> {
  return consumption.then(
    (result) => ({ allowed: true, msBeforeNext: result.msBeforeNext }),
    (rejection: unknown) => {
      if (rejection instanceof RateLimiterRes) return { allowed: false, msBeforeNext: rejection.msBeforeNext };
      throw rejection;
    },
  );
}

// A busy address (a carrier's NAT, a proxy, a shop's wifi) would cost a Redis round trip per request. An instance
// takes a slice of the address's allowance (1 %) per round trip and spends it locally: the limit still holds across
// instances, and an address may be refused at most a slice early.
const reservations = new LRUCache<string, { left: number; until: number }>({ max: 100_000 });
const reserving = new Map<string, Promise<Outcome | undefined>>();

/**
 * Counts one request against a slice of `id`'s public allowance this instance already holds, without waiting; false
 * when it holds none (consumeRateLimit then takes one, or decides in memory).
 */
export function consumeHeldSlice(id: string): boolean {
  const held = reservations.get(id);
  if (!held || held.left <= 0 || held.until <= Date.now()) return false;
  held.left -= 1;
  return true;
}

async function consumeReserved(redis: RateLimiterRedis, id: string): Promise<Outcome | undefined> {
  const slice = Math.max(1, Math.floor(limits.ip.points / 100));
  if (consumeHeldSlice(id)) return { allowed: true, msBeforeNext: 0 };
  let pending = reserving.get(id);
  if (!pending) {
    pending = withRedis(() => settle(redis.consume(id, slice)))
      .then((outcome) => {
        if (outcome?.allowed) reservations.set(id, { left: slice, until: Date.now() + outcome.msBeforeNext });
        else reservations.delete(id);
        return outcome;
      })
      .finally(() => reserving.delete(id));
    reserving.set(id, pending);
  }
  const outcome = await pending;
  return outcome?.allowed ? consumeReserved(redis, id) : outcome;
}

/**
 * Counts one request against `id`'s allowance, shared by all instances through Redis; while Redis is away or slow
 * each instance counts alone in memory. Over it: a 429 in the one error shape with Retry-After.
 */
export async function consumeRateLimit(scope: RateLimitScope, id: string): Promise<void> {
  limiters[scope] ??= createLimiter(scope);
  const { memory, redis } = limiters[scope];
  const outcome =
    (redis && (await (scope === "ip" ? consumeReserved(redis, id) : withRedis(() => settle(redis.consume(id)))))) ??
    (await settle(memory.consume(id)));
  if (outcome.allowed) return;
  metrics.rateLimited.inc({ scope });
  const seconds = Math.max(1, Math.ceil(outcome.msBeforeNext / 1000));
  throw new ApiError("rate_limited", `${refusals[scope]} Try again in ${seconds} s.`, undefined, {
    "retry-after": String(seconds),
  });
}

/** Forgets what `id` has used in `scope`, everywhere (an operator unblocking an address; a test that used one up). */
export async function forgetRateLimit(scope: RateLimitScope, id: string): Promise<void> {
  limiters[scope] ??= createLimiter(scope);
  const { memory, redis } = limiters[scope];
  if (scope === "ip") reservations.delete(id);
  await memory.delete(id);
  if (redis) await withRedis(() => redis.delete(id));
}
