import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { ApiError } from "@/lib/api/errors";
import { cacheRedis } from "@/lib/cache/tiered-cache";
import { env } from "@/lib/env.mjs";
import { metrics } from "@/lib/metrics/metrics";

/** ip: every caller of the public API, by address. session: writes, by the signed-in wallet. */
export type RateLimitScope = "ip" | "session";

const limits: Record<RateLimitScope, { points: number; duration: number }> = {
  ip: { points: env.RATE_LIMIT_PUBLIC_POINTS, duration: env.RATE_LIMIT_PUBLIC_SECONDS },
  session: { points: env.RATE_LIMIT_WRITE_POINTS, duration: env.RATE_LIMIT_WRITE_SECONDS },
};

function createLimiter(scope: RateLimitScope): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ ...limits[scope], keyPrefix: `rl-${scope}` });
  const redis = cacheRedis();
  if (!redis) return memory;
  // Shared counts across instances; while Redis is away each instance counts alone (the insurance limiter).
  return new RateLimiterRedis({
    ...limits[scope],
    storeClient: redis,
    keyPrefix: `rl-${scope}`,
    rejectIfRedisNotReady: true,
    insuranceLimiter: memory,
  });
}

type Limiters = Partial<Record<RateLimitScope, RateLimiterAbstract>>;
// Next's route code and the gateway in server.ts share one count per process.
const key = Symbol.for("greenledger.rate-limits");
const holder = globalThis as typeof globalThis & { [key]?: Limiters };
holder[key] ??= {};
const limiters = holder[key];

/** Counts one request against `id`'s allowance; over it, a 429 in the one error shape with Retry-After. */
export async function consumeRateLimit(scope: RateLimitScope, id: string): Promise<void> {
  limiters[scope] ??= createLimiter(scope);
  const limiter = limiters[scope];
  try {
    await limiter.consume(id);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    metrics.rateLimited.inc({ scope });
    const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    throw new ApiError(
      "rate_limited",
      scope === "ip"
        ? `Too many requests from your address. Try again in ${seconds} s.`
        : `Too many changes from your session. Try again in ${seconds} s.`,
      undefined,
      { "retry-after": String(seconds) },
    );
  }
}
