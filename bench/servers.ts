import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { buildIfStale, type Child, start, waitReady } from "@/bench/processes";
import type { RecordedAnswers } from "@/bench/recorded";
import { BENCH_CHAIN_ID } from "@/bench/seed";
import { freePort, freePorts } from "@/scripts/free-port.mjs";
import { SERVER_ARGS } from "@/scripts/server-command.mjs";

export type Server = { name: string; base: string; child: Child };

const NEXT_BIN = path.resolve("node_modules/next/dist/bin/next");
const NAIVE_DIR = path.resolve("bench/naive-next");
const OUR_SOURCES = ["app", "components", "lib", "public", "workers", "prisma", "next.config.mjs", "package-lock.json"];

async function startReplay(name: string, script: string, logDir: string, answers: RecordedAnswers): Promise<Server> {
  const port = await freePort();
  const answersFile = path.join(logDir, "recorded-answers.json");
  writeFileSync(answersFile, JSON.stringify(answers));
  const child = start(name, process.execPath, ["--import", "tsx", script], {
    env: { PORT: String(port), LIMIT_ANSWERS: answersFile },
    logDir,
  });
  const base = `http://127.0.0.1:${port}`;
  await waitReady(child, `${base}/api/verify/1`, 30_000, (status) => status === 200);
  return { name, base, child };
}

/** The limit: bare node:http answering GreenLedger's recorded verification and search answers. */
export function startLimit(logDir: string, answers: RecordedAnswers): Promise<Server> {
  return startReplay("limit", "bench/limit-server.ts", logDir, answers);
}

/** The generator's ceiling: the same bytes written straight to the socket, no HTTP server in between. */
export function startCeiling(logDir: string, answers: RecordedAnswers): Promise<Server> {
  return startReplay("ceiling", "bench/ceiling-server.ts", logDir, answers);
}

/** The naive peer: a plain Next route handler (next start) reading the batch with Prisma per request. */
export async function startNaive(logDir: string, databaseUrl: string): Promise<Server> {
  buildIfStale(
    "the naive Next app",
    path.join(NAIVE_DIR, ".next/BUILD_ID"),
    [path.join(NAIVE_DIR, "app"), path.join(NAIVE_DIR, "next.config.mjs"), "lib/generated"],
    process.execPath,
    [NEXT_BIN, "build", NAIVE_DIR],
  );
  const port = await freePort();
  const child = start(
    "naive",
    process.execPath,
    [NEXT_BIN, "start", NAIVE_DIR, "-p", String(port), "-H", "127.0.0.1"],
    {
      env: { DATABASE_URL: databaseUrl, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
      logDir,
    },
  );
  const base = `http://127.0.0.1:${port}`;
  await waitReady(child, `${base}/api/verify/1`, 60_000, (status) => status === 200);
  return { name: "naive", base, child };
}

// Rate limits are the runtime's to define; one client address sending everything must not be throttled here,
// so every RATE_LIMIT_* count in .env.example is raised. Other settings come from BENCH_OURS_ENV ("A=1 B=2").
export function benchEnvOverrides(): Record<string, string> {
  const overrides: Record<string, string> = {};
  const example = readFileSync(".env.example", "utf8");
  for (const match of example.matchAll(/^#?\s*(RATE_LIMIT_[A-Z0-9_]+)=/gm)) {
    const name = match[1] as string;
    if (/POINTS|MAX|REQUESTS|LIMIT$|PER_/.test(name) && !/SECONDS|DURATION|WINDOW|MS$/.test(name)) {
      overrides[name] = "1000000000";
    }
  }
  for (const pair of (process.env.BENCH_OURS_ENV ?? "").split(/\s+/).filter(Boolean)) {
    const [name, ...value] = pair.split("=");
    if (name) overrides[name] = value.join("=");
  }
  return overrides;
}

/** `npm run build` unless the production build is newer than every source it is built from. */
export function buildOursIfStale(): void {
  buildIfStale("GreenLedger", ".next/BUILD_ID", OUR_SOURCES, "npm", ["run", "build"]);
}

export type OurServer = Server & { chainRpcUrl: string };

/** Another instance's chain: its anvil and contract, so two instances index one chain as in production. */
export type SharedChain = { rpcUrl: string; contract: string };

function chainEnv(chain: SharedChain | undefined, port: number): Record<string, string> {
  if (!chain) return { CHAIN_RPC_URL: "", EMBEDDED_CHAIN_PORT: String(port) };
  return {
    CHAIN_RPC_URL: chain.rpcUrl,
    CHAIN_ID: String(BENCH_CHAIN_ID),
    CROP_BATCH_ADDRESS: chain.contract,
    CHAIN_CONFIRMATIONS: "2",
    // Never used: the bench queues nothing to send. A fresh key, since development keys are refused here.
    RELAYER_PRIVATE_KEY: `0x${randomBytes(32).toString("hex")}`,
  };
}

/** GreenLedger's production server (server.ts) on the bench database, with its embedded chain or a shared one. */
export async function startOurs(
  name: string,
  logDir: string,
  options: {
    databaseUrl: string;
    redisUrl: string;
    keyPrefix: string;
    chain?: SharedChain;
    env?: Record<string, string>;
  },
): Promise<OurServer> {
  buildOursIfStale();
  const [port = 0, chainPort = 0, embeddedDbPort = 0] = await freePorts(3);
  const overrides = benchEnvOverrides();
  const child = start(name, process.execPath, SERVER_ARGS, {
    env: {
      NODE_ENV: "production",
      TSX_TSCONFIG_PATH: "tsconfig.server.json",
      NEXT_TELEMETRY_DISABLED: "1",
      HOST: "127.0.0.1",
      PORT: String(port),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: options.databaseUrl,
      DATABASE_READ_URL: "",
      DATABASE_ANALYTICS_URL: "",
      REDIS_URL: options.redisUrl,
      REDIS_KEY_PREFIX: options.keyPrefix,
      DEMO_DATA: "false",
      // No balancer to warn before it stops listening.
      SHUTDOWN_NOTICE_SECONDS: "0",
      DATA_DIR: path.join(logDir, `${name}-data`),
      EMBEDDED_DB_PORT: String(embeddedDbPort),
      LOG_LEVEL: "warn",
      ...chainEnv(options.chain, chainPort),
      ...options.env,
      ...overrides,
    },
    logDir,
  });
  const base = `http://127.0.0.1:${port}`;
  await waitReady(child, `${base}/api/health`, 180_000, (status) => status === 200);
  return { name, base, child, chainRpcUrl: options.chain?.rpcUrl ?? `http://127.0.0.1:${chainPort}` };
}

export type RedisServer = {
  url: string;
  port: number;
  child: Child;
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
};

async function redisAnswers(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => undefined);
    const ok = await client
      .connect()
      .then(() => client.ping())
      .then(
        () => true,
        () => false,
      );
    client.disconnect();
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`redis at ${url} did not answer within ${timeoutMs} ms`);
}

/** A redis-server of the bench's own (nothing saved to disk), so killing it touches nobody else. */
export async function startRedis(logDir: string): Promise<RedisServer> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const launch = () =>
    start(
      "redis",
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        logDir,
      },
    );
  const server: RedisServer = {
    url,
    port,
    child: launch(),
    kill: () => server.child.kill(),
    async restart() {
      server.child = launch();
      await redisAnswers(url, 10_000);
    },
    stop: () => server.child.stop(),
  };
  await redisAnswers(url, 10_000);
  return server;
}

/** Removes every key written under the run's prefix from the shared Redis. */
export async function dropKeys(url: string, prefix: string): Promise<number> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  let removed = 0;
  try {
    for await (const keys of client.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length) removed += await client.unlink(...keys);
    }
  } finally {
    client.disconnect();
  }
  return removed;
}
