import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { ApiError } from "@/lib/api/errors";
import { cacheRedis, withRedis } from "@/lib/cache/tiered-cache";
import { env } from "@/lib/env.mjs";
import { metrics } from "@/lib/metrics/metrics";

/** ip: every caller of the public API, by address. session: writes, by the signed-in wallet. */
export type RateLimitScope = "ip" | "session";

const limits: Record<RateLimitScope, { points: number; duration: number }> = {
  ip: { points: env.RATE_LIMIT_PUBLIC_POINTS, duration: env.RATE_LIMIT_PUBLIC_SECONDS },
  session: { points: env.RATE_LIMIT_WRITE_POINTS, duration: env.RATE_LIMIT_WRITE_SECONDS },
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

/**
 * Counts one request against `id`'s allowance, shared by all instances through Redis; while Redis is away or slow
 * each instance counts alone in memory. Over it: a 429 in the one error shape with Retry-After.
 */
export async function consumeRateLimit(scope: RateLimitScope, id: string): Promise<void> {
  limiters[scope] ??= createLimiter(scope);
  const { memory, redis } = limiters[scope];
  const outcome = (redis && (await withRedis(() => settle(redis.consume(id))))) ?? (await settle(memory.consume(id)));
  if (outcome.allowed) return;
  metrics.rateLimited.inc({ scope });
  const seconds = Math.max(1, Math.ceil(outcome.msBeforeNext / 1000));
  throw new ApiError(
    "rate_limited",
    scope === "ip"
      ? `Too many requests from your address. Try again in ${seconds} s.`
      : `Too many changes from your session. Try again in ${seconds} s.`,
    undefined,
    { "retry-after": String(seconds) },
  );
}
