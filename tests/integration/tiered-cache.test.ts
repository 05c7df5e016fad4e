import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RedisServer, startRedisServer } from "@/deploy/local/redis-server";
import { cached, invalidateAll } from "@/lib/cache/tiered-cache";
import { type CacheInstance, startCacheInstance } from "@/tests/support/cache-instance";
import { until } from "@/tests/support/until";

describe("tiered cache: single flight", () => {
  it("runs the loader once for concurrent misses of one key, and again after an invalidation", async () => {
    const name = `test:${randomUUID()}`;
    let loads = 0;
    let release: (value: string) => void = () => undefined;
    const loader = () => {
      loads += 1;
      return new Promise<string>((resolve) => (release = resolve));
    };
    const answers = Promise.all(Array.from({ length: 20 }, () => cached(name, loader)));
    await expect.poll(() => loads).toBe(1);
    release("once");
    expect(await answers).toEqual(Array(20).fill("once"));
    expect(await cached(name, loader)).toBe("once");
    expect(loads).toBe(1);
    await invalidateAll({ keys: [name] });
    const again = cached(name, loader);
    await expect.poll(() => loads).toBe(2);
    release("twice");
    expect(await again).toBe("twice");
  });
});

describe("tiered cache: stale while revalidate", () => {
  it("answers an entry past its fresh life at once and reloads it behind the answer, once", async () => {
    const name = `test:${randomUUID()}`;
    const options = { ttlSeconds: 30, staleSeconds: 30 };
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      expect(await cached(name, async () => "first", options)).toBe("first");
      vi.setSystemTime(Date.now() + 31_000);
      let loads = 0;
      let release: (value: string) => void = () => undefined;
      const loader = () => {
        loads += 1;
        return new Promise<string>((resolve) => (release = resolve));
      };
      expect(await cached(name, loader, options)).toBe("first");
      expect(await cached(name, loader, options)).toBe("first");
      expect(loads).toBe(1);
      release("second");
      await expect.poll(() => cached(name, loader, options)).toBe("second");
      expect(loads).toBe(1);
      await invalidateAll({ keys: [name] });
      const again = cached(name, loader, options);
      await expect.poll(() => loads).toBe(2);
      release("third");
      expect(await again).toBe("third");
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("tiered cache: many entries stale at once", () => {
  it("answers each stale at once and reloads them two at a time, until every one is fresh", async () => {
    const names = Array.from({ length: 10 }, () => `test:${randomUUID()}`);
    const options = { ttlSeconds: 30, staleSeconds: 30 };
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      for (const name of names) await cached(name, async () => `old ${name}`, options);
      vi.setSystemTime(Date.now() + 31_000);
      const waiting: (() => void)[] = [];
      let running = 0;
      let most = 0;
      const loaderFor = (name: string) => () => {
        running += 1;
        most = Math.max(most, running);
        return new Promise<string>((resolve) =>
          waiting.push(() => {
            running -= 1;
            resolve(`new ${name}`);
          }),
        );
      };
      const answers = await Promise.all(names.map((name) => cached(name, loaderFor(name), options)));
      expect(answers).toEqual(names.map((name) => `old ${name}`));
      expect(running).toBe(2);
      for (let released = 0; released < names.length; released += 1) {
        await expect.poll(() => waiting.length).toBeGreaterThan(0);
        (waiting.shift() as () => void)();
      }
      await expect
        .poll(() => Promise.all(names.map((name) => cached(name, loaderFor(name), options))))
        .toEqual(names.map((name) => `new ${name}`));
      expect(most).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

// Two app instances (two processes, two L1s) and one Redis of the test's own, which it stops and restarts.
describe("tiered cache: two instances, one Redis", () => {
  let redis: RedisServer;
  let direct: Redis;
  let first: CacheInstance;
  let second: CacheInstance;
  const prefix = `gl-cache-test-${randomUUID().slice(0, 8)}:`;

  beforeAll(async () => {
    redis = await startRedisServer();
    direct = new Redis(redis.url, { keyPrefix: prefix, maxRetriesPerRequest: 1 });
    first = startCacheInstance(redis.url, prefix);
    second = startCacheInstance(redis.url, prefix);
    // Ready when Redis counts both subscriptions and both command connections answer.
    const channel = `${prefix}cache-invalidations`;
    await until(async () => JSON.stringify(await direct.call("pubsub", "numsub", channel)) === `["${channel}",2]`);
    await until(async () => (await first.ping()) && (await second.ping()));
  });

  afterAll(async () => {
    direct?.disconnect();
    await first?.stop();
    await second?.stop();
    await redis?.stop();
  });

  it("shares fills through Redis (L2) and drops a key in every instance's L1 when one invalidates it", async () => {
    expect((await first.get("verify:1", "original")).value).toBe("original");
    await expect.poll(() => direct.get("verify:1")).toBe(JSON.stringify("original"));
    const before = await second.stats();
    expect((await second.get("verify:1", "second-would-load-this")).value).toBe("original");
    expect((await second.stats()).l2).toBe(before.l2 + 1);
    expect(await second.peek("verify:1")).toBe("original");

    await first.invalidate(["verify:1"]);
    expect(await direct.get("verify:1")).toBeNull();
    await expect.poll(() => second.peek("verify:1")).toBeUndefined();
    expect((await second.get("verify:1", "changed")).value).toBe("changed");
  });

  it("drops everything carrying a tag, in both instances and in Redis", async () => {
    await first.get("search:a", "page a", ["search"]);
    await first.get("search:b", "page b", ["search"]);
    await first.get("verify:2", "untagged");
    await expect.poll(() => direct.exists("search:a", "search:b")).toBe(2);
    await second.get("search:a", "other", ["search"]);
    expect(await second.peek("search:a")).toBe("page a");

    await second.invalidate([], ["search"]);
    expect(await direct.exists("search:a", "search:b")).toBe(0);
    await expect.poll(() => first.peek("search:a")).toBeUndefined();
    expect(await first.peek("search:b")).toBeUndefined();
    expect(await second.peek("search:a")).toBeUndefined();
    expect(await first.peek("verify:2")).toBe("untagged");
  });

  it("reads the misses of one turn from Redis with one MGET and fills them with one script", async () => {
    const calls = async (command: string) => {
      const line = ((await direct.info("commandstats")) as string).match(new RegExp(`cmdstat_${command}:calls=(\\d+)`));
      return Number(line?.[1] ?? 0);
    };
    const names = Array.from({ length: 25 }, (_, index) => `verify:turn-${randomUUID()}-${index}`);
    const [mget, evals] = [await calls("mget"), await calls("eval")];
    expect(await first.getMany(names)).toEqual(names.map((name) => `value of ${name}`));
    await expect.poll(() => direct.exists(...names)).toBe(names.length);
    expect(await calls("mget")).toBe(mget + 1);
    expect(await calls("eval")).toBe(evals + 1);
    const before = await second.stats();
    expect(await second.getMany(names)).toEqual(names.map((name) => `value of ${name}`));
    expect((await second.stats()).l2).toBe(before.l2 + names.length);
  });

  it("keeps a fill out of Redis when its key is invalidated before the fill is sent", async () => {
    const [name, after] = [`verify:dropped-${randomUUID()}`, `verify:after-${randomUUID()}`];
    expect(await first.getInvalidateGet(name, after)).toBe("later");
    await expect.poll(() => direct.exists(after)).toBe(1);
    expect(await direct.exists(name)).toBe(0);
  });

  it("keeps a local entry out of Redis, and still drops it in every instance by its tag", async () => {
    const name = `search:local-${randomUUID()}`;
    await first.get(name, "first's page", ["search"], true);
    await second.get(name, "second's page", ["search"], true);
    // A later fill in the same instance shows the local one's turn has passed without a write.
    const marker = `verify:marker-${randomUUID()}`;
    await first.get(marker, "marker");
    await expect.poll(() => direct.exists(marker)).toBe(1);
    expect(await direct.exists(name)).toBe(0);
    expect(await first.peek(name)).toBe("first's page");
    expect(await second.peek(name)).toBe("second's page");
    await first.invalidate([], ["search"]);
    expect(await first.peek(name)).toBeUndefined();
    await expect.poll(() => second.peek(name)).toBeUndefined();
  });

  it("counts rate limits across instances through Redis", async () => {
    const caller = `caller-${randomUUID()}`;
    expect((await first.limit(caller)).status).toBe(200);
    expect((await first.limit(caller)).status).toBe(200);
    expect((await second.limit(caller)).status).toBe(200);
    expect((await second.limit(caller)).status).toBe(429);
    expect((await first.limit(caller)).status).toBe(429);
  });

  it("lets a busy address spend a slice of its allowance per Redis round trip, and still holds the limit", async () => {
    // 300 per minute: each instance takes 3 (1 %) per round trip.
    const busy = { RATE_LIMIT_PUBLIC_POINTS: "300", RATE_LIMIT_PUBLIC_SECONDS: "60" };
    const [one, two] = [startCacheInstance(redis.url, prefix, busy), startCacheInstance(redis.url, prefix, busy)];
    try {
      for (const instance of [one, two]) await expect.poll(() => instance.ping()).toBe(true);
      const caller = `busy-${randomUUID()}`;
      for (let request = 0; request < 10; request += 1) expect((await one.limit(caller)).status).toBe(200);
      // Ten requests, four round trips of three points each.
      expect(await direct.get(`rl-ip:${caller}`)).toBe("12");
      let allowed = 10;
      for (let request = 0; request < 320; request += 1) {
        if ((await (request % 2 ? one : two).limit(caller)).status === 200) allowed += 1;
      }
      // Never more than the limit; at most a slice short per instance.
      expect(allowed).toBeLessThanOrEqual(300);
      expect(allowed).toBeGreaterThanOrEqual(300 - 2 * 2);
      expect((await one.limit(caller)).status).toBe(429);
      expect((await two.limit(caller)).status).toBe(429);
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  });

  it("keeps answering quickly while Redis hangs, opens the circuit, and sends missed invalidations when it answers again", async () => {
    await first.get("verify:3", "before");
    await second.get("verify:3", "before");
    await expect.poll(() => direct.get("verify:3")).toBe(JSON.stringify("before"));
    redis.pause();
    try {
      for (let key = 0; key < 5; key += 1) {
        const answer = await first.get(`verify:hung-${key}`, `value ${key}`);
        expect(answer.value).toBe(`value ${key}`);
        // The Redis timeout (50 ms) bounds a lookup; a slow shared machine gets some slack on top.
        expect(answer.ms).toBeLessThan(250);
      }
      expect((await first.stats()).circuitOpen).toBe(true);
      // Rate limits count in memory meanwhile, without waiting on Redis.
      const limits = [];
      for (let request = 0; request < 4; request += 1) limits.push(await first.limit("203.0.113.77"));
      expect(limits.map((limit) => limit.status)).toEqual([200, 200, 200, 429]);
      for (const limit of limits) expect(limit.ms).toBeLessThan(50);
      const open = await first.get("verify:hung-open", "fast");
      expect(open.ms).toBeLessThan(50);
      expect((await first.get("verify:3", "from L1")).value).toBe("before");
      await first.invalidate(["verify:3"]);
    } finally {
      redis.resume();
    }
    // The next miss probes Redis, closes the circuit and sends the invalidation it missed, to Redis and to `second`.
    await expect
      .poll(async () => {
        await first.get(`verify:probe-${randomUUID()}`, "probe");
        return (await first.stats()).circuitOpen;
      })
      .toBe(false);
    await expect.poll(() => direct.get("verify:3")).toBeNull();
    await expect.poll(() => second.peek("verify:3")).toBeUndefined();
    expect((await first.get("verify:3", "after")).value).toBe("after");
  });

  it("serves from L1 and the loader with Redis gone, and L2 hits resume after it restarts", async () => {
    await redis.kill();
    const down = await first.get("verify:down", "loaded while down");
    expect(down.value).toBe("loaded while down");
    expect(down.ms).toBeLessThan(250);
    await redis.start();
    // Redis came back empty: a fill by one instance must again be an L2 hit for the other.
    await expect
      .poll(async () => {
        const name = `verify:after-${randomUUID()}`;
        await first.get(name, "refilled");
        return direct.get(name);
      })
      .toBe(JSON.stringify("refilled"));
    await expect
      .poll(async () => {
        const name = `verify:shared-${randomUUID()}`;
        await first.get(name, "from first");
        await expect.poll(() => direct.exists(name)).toBe(1);
        return (await second.get(name, "from second")).value;
      })
      .toBe("from first");
  });
});
