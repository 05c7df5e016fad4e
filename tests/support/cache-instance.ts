import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

type Reply = { id: number; result?: unknown; error?: string };

export type CacheInstance = {
  /** cached(name) with a loader that answers `value` (and counts its calls); `local`: never in Redis. */
  get(name: string, value: string, tags?: string[], local?: boolean): Promise<{ value: string; ms: number }>;
  /** Misses for all `names` in one turn of the event loop; each loads `value of <name>`. */
  getMany(names: string[]): Promise<string[]>;
  /** Loads `name`, invalidates it before the turn ends, then loads `after` (whose fill goes to Redis later). */
  getInvalidateGet(name: string, after: string): Promise<string>;
  invalidate(keys: string[], tags?: string[]): Promise<void>;
  peek(name: string): Promise<string | undefined>;
  /** How many lookups each tier answered, the loader calls, and whether the Redis circuit is open. */
  stats(): Promise<{ l1: number; l2: number; miss: number; circuitOpen: boolean }>;
  /** One request from `id` against the public rate limit (3 per 10 s unless started with others): 200 or 429. */
  limit(id: string): Promise<{ status: number; ms: number }>;
  /** Whether its Redis connection answers. */
  ping(): Promise<boolean>;
  stop(): Promise<void>;
};

const worker = fileURLToPath(new URL("./cache-worker.ts", import.meta.url));
const tsconfig = fileURLToPath(new URL("../../tsconfig.server.json", import.meta.url));

/** One app instance's cache in a process of its own (its own L1), talking to `redisUrl`. */
export function startCacheInstance(redisUrl: string, prefix: string, env: Record<string, string> = {}): CacheInstance {
  const child = fork(worker, [], {
    execArgv: ["--import", "tsx"],
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: tsconfig,
      NODE_ENV: "test",
      LOG_LEVEL: "silent",
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      REDIS_BREAKER_COOLDOWN_MS: "200",
      RATE_LIMIT_PUBLIC_POINTS: "3",
      RATE_LIMIT_PUBLIC_SECONDS: "10",
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let next = 0;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  child.on("message", (reply: Reply) => {
    const pending = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (reply.error) pending?.reject(new Error(reply.error));
    else pending?.resolve(reply.result);
  });
  const request = <T>(op: string, ...args: unknown[]) =>
    new Promise<T>((resolve, reject) => {
      next += 1;
      waiting.set(next, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id: next, op, args });
    });
  return {
    get: (name, value, tags = [], local = false) => request("get", name, value, tags, local),
    getMany: (names) => request("getMany", names),
    getInvalidateGet: (name, after) => request("getInvalidateGet", name, after),
    invalidate: (keys, tags = []) => request("invalidate", keys, tags),
    peek: (name) => request("peek", name),
    stats: () => request("stats"),
    ping: () => request("ping"),
    limit: (id) => request("limit", id),
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
  };
}
