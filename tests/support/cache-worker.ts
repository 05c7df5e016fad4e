import { consumeRateLimit } from "@/lib/api/rate-limit";
import { cached, invalidateAll, peek, pingCache } from "@/lib/cache/tiered-cache";
import { metrics } from "@/lib/metrics/metrics";

type Message = { id: number; op: string; args: unknown[] };

async function count(result: string): Promise<number> {
  const { values } = await metrics.cacheRequests.get();
  return values.filter((value) => value.labels.result === result).reduce((sum, value) => sum + value.value, 0);
}

const operations: Record<string, (...args: never[]) => Promise<unknown>> = {
  get: async (name: string, value: string, tags: string[], local = false) => {
    const started = performance.now();
    const result = await cached(name, async () => value, { tags, local });
    return { value: result, ms: performance.now() - started };
  },
  /** Misses for every name in one turn of the event loop. */
  getMany: (names: string[]) => Promise.all(names.map((name) => cached(name, async () => `value of ${name}`))),
  /** A fill, invalidated before its turn ends, then a fill of `after` that goes to Redis after it would have. */
  getInvalidateGet: async (name: string, after: string) => {
    await cached(name, async () => "stale");
    void invalidateAll({ keys: [name] });
    return cached(after, async () => "later");
  },
  invalidate: (keys: string[], tags: string[]) => invalidateAll({ keys, tags }),
  peek: async (name: string) => peek<string>(name),
  ping: pingCache,
  limit: async (id: string) => {
    const started = performance.now();
    const status = await consumeRateLimit("ip", id).then(
      () => 200,
      (error: { status?: number }) => error.status ?? 500,
    );
    return { status, ms: performance.now() - started };
  },
  stats: async () => ({
    l1: await count("l1"),
    l2: await count("l2"),
    miss: await count("miss"),
    circuitOpen: (await metrics.redisCircuit.get()).values[0]?.value === 1,
  }),
};

process.on("message", async ({ id, op, args }: Message) => {
  try {
    const result = await (operations[op] as (...args: unknown[]) => Promise<unknown>)(...args);
    process.send?.({ id, result });
  } catch (error) {
    process.send?.({ id, error: String(error) });
  }
});
