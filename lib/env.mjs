import path from "node:path";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { z } from "zod";
import { CHAIN_SYNC_BUCKETS, LATENCY_BUCKETS } from "./metrics/buckets.mjs";

// Anvil's and Hardhat's well-known accounts: fine on the embedded chain, refused on any other.
const DEV_MNEMONIC = "test test test test test test test test test test test junk";
const devAddresses = new Set(
  Array.from({ length: 20 }, (_, index) => mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index }).address),
);

const optionalUrl = z
  .string()
  .trim()
  .transform((value) => value || undefined)
  .pipe(z.url().optional())
  .optional();

const flag = z.enum(["true", "false", "1", "0"]).transform((value) => value === "true" || value === "1");

// Connections per pool by role (write, read, analytics): what the README's connection budget adds up.
const POOL_DEFAULTS = {
  all: { write: 10, read: 20, analytics: 5 },
  web: { write: 10, read: 20, analytics: 5 },
  worker: { write: 5, read: 2, analytics: 3 },
};

// Each SLA's default bound (lib/observability/sla.ts) and the buckets of its histogram: the alert rules read the
// bucket at the bound, so a bound must be one of them.
const SLA_BOUNDS = {
  verification: { ms: 150, buckets: LATENCY_BUCKETS },
  search: { ms: 300, buckets: LATENCY_BUCKETS },
  tracking: { ms: 50, buckets: LATENCY_BUCKETS },
  chain_sync: { ms: 15_000, buckets: CHAIN_SYNC_BUCKETS },
  upload: { ms: 5_000, buckets: LATENCY_BUCKETS },
  api: { ms: 100, buckets: LATENCY_BUCKETS },
};
/** @typedef {keyof typeof SLA_BOUNDS} SlaKey */

/** `verification=150,search=300`: every SLA's bound in seconds, exactly one of its histogram's buckets. */
const slaBounds = z
  .string()
  .default("")
  .transform((value, context) => {
    const bounds = /** @type {Record<SlaKey, number>} */ (
      Object.fromEntries(Object.entries(SLA_BOUNDS).map(([key, { ms }]) => [key, ms / 1000]))
    );
    for (const item of value.split(",").map((part) => part.trim())) {
      if (!item) continue;
      const [key = "", ms = ""] = item.split("=").map((part) => part.trim());
      if (!Object.hasOwn(SLA_BOUNDS, key) || !/^\d+(\.\d+)?$/.test(ms)) {
        const keys = Object.keys(SLA_BOUNDS).join(", ");
        context.addIssue({
          code: "custom",
          message: `"${item}" is not <sla>=<milliseconds> with <sla> one of ${keys}`,
        });
        continue;
      }
      const { buckets } = SLA_BOUNDS[/** @type {SlaKey} */ (key)];
      const bucket = buckets.find((seconds) => Math.abs(seconds * 1000 - Number(ms)) < 1e-9);
      if (bucket === undefined) {
        const allowed = buckets.map((seconds) => Number((seconds * 1000).toPrecision(6))).join(", ");
        context.addIssue({ code: "custom", message: `${key}=${ms} is not a bucket of its histogram (ms: ${allowed})` });
      } else bounds[/** @type {SlaKey} */ (key)] = bucket;
    }
    return bounds;
  });

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  PUBLIC_BASE_URL: z.url().default("http://localhost:3000"),
  DATA_DIR: z.string().min(1).default(".data"),
  DATABASE_URL: optionalUrl,
  DATABASE_READ_URL: optionalUrl,
  DATABASE_ANALYTICS_URL: optionalUrl,
  EMBEDDED_DB_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  ROLE: z.enum(["all", "web", "worker"]).default("all"),
  DB_POOL_WRITE_MAX: z.coerce.number().int().min(1).optional(),
  DB_POOL_READ_MAX: z.coerce.number().int().min(1).optional(),
  DB_POOL_ANALYTICS_MAX: z.coerce.number().int().min(1).optional(),
  LEASE_TIMEOUT_SECONDS: z.coerce.number().min(1).max(60).default(4),
  SHUTDOWN_NOTICE_SECONDS: z.coerce.number().min(0).max(60).default(5),
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(1).max(600).default(25),
  REDIS_URL: optionalUrl,
  REDIS_KEY_PREFIX: z.string().min(1).max(64).default("gl:"),
  REDIS_TIMEOUT_MS: z.coerce.number().int().min(1).max(10_000).default(50),
  REDIS_BREAKER_FAILURES: z.coerce.number().int().min(1).default(3),
  REDIS_BREAKER_COOLDOWN_MS: z.coerce.number().int().min(10).default(2_000),
  CACHE_L1_MAX_MB: z.coerce.number().int().min(1).max(65_536).default(256),
  CACHE_WARM_TOKENS: z.coerce.number().int().min(0).max(10_000).default(1_000),
  SEARCH_CACHE_SECONDS: z.coerce.number().int().min(0).max(3_600).default(30),
  PURGE_URL: optionalUrl,
  PURGE_METHOD: z.enum(["POST", "PURGE", "DELETE", "PUT"]).default("POST"),
  PURGE_TOKEN: z.string().min(1).optional(),
  RATE_LIMIT_PUBLIC_POINTS: z.coerce.number().int().min(1).default(2_000),
  RATE_LIMIT_PUBLIC_SECONDS: z.coerce.number().int().min(1).default(10),
  RATE_LIMIT_WRITE_POINTS: z.coerce.number().int().min(1).default(300),
  RATE_LIMIT_WRITE_SECONDS: z.coerce.number().int().min(1).default(60),
  RATE_LIMIT_POSITIONS_POINTS: z.coerce.number().int().min(1).default(5),
  RATE_LIMIT_POSITIONS_SECONDS: z.coerce.number().int().min(1).default(10),
  // Map tiles for live tracking; {z}/{x}/{y} are filled in by the map. Empty: the route on a plain background.
  MAP_TILE_URL: z
    .string()
    .trim()
    .regex(/^(https?:\/\/\S*\{z\}\S*\{x\}\S*\{y\}\S*)?$/, "must be an http(s) URL with {z}, {x} and {y}, or empty")
    .default("https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
  MAP_TILE_ATTRIBUTION: z.string().trim().max(300).default("© OpenStreetMap contributors"),
  LIVE_STREAMS_PER_USER: z.coerce.number().int().min(1).default(10),
  LIVE_STREAMS_PER_ADDRESS: z.coerce.number().int().min(1).default(200),
  LIVE_RECHECK_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  // Photos and certificates: what a farm may store in all, how long an unfinished upload waits for its farmer.
  UPLOAD_QUOTA_MB: z.coerce.number().int().min(1).default(500),
  UPLOAD_EXPIRY_DAYS: z.coerce.number().int().min(1).max(365).default(14),
  ATTACHMENT_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(2),
  // An S3-compatible object store for uploads and stored files; without S3_BUCKET, files live under DATA_DIR.
  S3_BUCKET: z.string().trim().min(3).max(63).optional(),
  S3_ENDPOINT: optionalUrl,
  S3_REGION: z.string().trim().min(1).default("us-east-1"),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: flag.default(false),
  // clamd's TCP socket (tcp://host:3310): every file is scanned before it is ready. Unset: marked "not scanned".
  CLAMD_URL: optionalUrl,
  METRICS_TOKEN: z.string().min(16).optional(),
  SESSION_SECRET: z.string().min(32).optional(),
  SESSION_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(60),
  ADMIN_ADDRESSES: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((item) => item.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^0x[0-9a-f]{40}$/, "must be comma-separated EVM addresses"))),
  DEMO_DATA: flag.default(true),
  DEMO_BATCHES: z.coerce.number().int().min(0).max(1_000_000).default(5000),
  CHAIN_RPC_URL: optionalUrl,
  CHAIN_ID: z.coerce.number().int().positive().optional(),
  CROP_BATCH_ADDRESS: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, "must be an EVM address")
    .optional(),
  CHAIN_START_BLOCK: z.coerce.bigint().nonnegative().default(0n),
  CHAIN_CONFIRMATIONS: z.coerce.number().int().min(0).max(1000).optional(),
  RELAYER_PRIVATE_KEY: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 32-byte hex private key")
    .optional(),
  NEXT_PUBLIC_WALLETCONNECT_PROJECT_ID: z
    .string()
    .regex(/^[0-9a-f]{32}$/, "must be a WalletConnect project id")
    .optional(),
  EMBEDDED_CHAIN_PORT: z.coerce.number().int().min(1).max(65535).default(58545),
  EMBEDDED_CHAIN_BLOCK_SECONDS: z.coerce.number().int().min(0).max(60).default(0),
  EMBEDDED_CHAIN_DUMP_SECONDS: z.coerce.number().int().min(0).max(86_400).default(3_600),
  ANALYTICS_REFRESH_SECONDS: z.coerce.number().int().min(10).default(300),
  TRUST_PROXY: flag.default(false),
  /** Set at build time (the image's git revision): Next marks every asset with it, so pages never mix deployments. */
  DEPLOYMENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, "must be 1-32 letters, digits, - or _")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SLA_BOUNDS_MS: slaBounds,
  // The app's own burn alerts (lib/observability/sla-monitor.ts): how often they are evaluated, a factor on every
  // window (0.01 makes 1 h into 36 s, to try them out), and where changes are POSTed as Alertmanager's webhook does.
  SLA_MONITOR_INTERVAL_SECONDS: z.coerce.number().min(0.1).max(300).default(15),
  SLA_MONITOR_WINDOW_SCALE: z.coerce.number().positive().max(1).default(1),
  ALERT_WEBHOOK_URL: optionalUrl,
  // Performance budgets (lib/observability/budget-ratchet.ts): each SLA's P99 budget tightens, never loosens, once
  // PERFORMANCE_BUDGET_PERIODS periods in a row (each with at least PERFORMANCE_BUDGET_MIN_REQUESTS requests) ran
  // under half of it, to their highest P99 times the headroom. The period is scaled by SLA_MONITOR_WINDOW_SCALE.
  PERFORMANCE_BUDGET_PERIOD_SECONDS: z.coerce.number().positive().max(86_400).default(3_600),
  // At least 3: the change-point check's baseline is the median of the periods kept, from 3 of them on.
  PERFORMANCE_BUDGET_PERIODS: z.coerce.number().int().min(3).max(1_000).default(24),
  PERFORMANCE_BUDGET_MIN_REQUESTS: z.coerce.number().int().min(1).default(1_000),
  PERFORMANCE_BUDGET_HEADROOM: z.coerce.number().min(1.1).max(10).default(1.5),
  // Tracing (lib/observability/tracing/): the standard OTEL_* variables. Spans are kept in this process for the
  // critical-path analysis either way; they are exported over OTLP/HTTP only when an endpoint is set.
  OTEL_SDK_DISABLED: flag.default(false),
  OTEL_SERVICE_NAME: z.string().trim().min(1).default("greenledger"),
  OTEL_TRACES_SAMPLER: z
    .enum(["parentbased_traceidratio", "traceidratio", "parentbased_always_on", "always_on", "always_off"])
    .default("parentbased_traceidratio"),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(0.01),
  OTEL_TRACES_EXPORTER: z.enum(["otlp", "none"]).default("otlp"),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalUrl,
  // After an SLA breach the in-app monitor raises the sampling to TRACE_BOOST_RATIO for TRACE_BOOST_SECONDS, so
  // the slow path gets traced.
  TRACE_BOOST_RATIO: z.coerce.number().min(0).max(1).default(0.25),
  TRACE_BOOST_SECONDS: z.coerce.number().min(0).max(86_400).default(600),
  // A Jaeger-compatible query API (Jaeger's /api/traces/{id}; Tempo serves it too): the critical-path analysis reads
  // traces there, else from this process's own buffer of recent ones.
  TRACE_QUERY_URL: optionalUrl,
});

const checked = schema.superRefine((value, context) => {
  // Several processes share one database, one cache and one chain: none of them can be a process's own.
  if (value.ROLE !== "all") {
    for (const name of /** @type {const} */ (["DATABASE_URL", "REDIS_URL", "CHAIN_RPC_URL"])) {
      if (!value[name])
        context.addIssue({ code: "custom", path: [name], message: `is required with ROLE=${value.ROLE}` });
    }
  }
  if (value.S3_BUCKET) {
    for (const name of /** @type {const} */ (["S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"])) {
      if (!value[name]) context.addIssue({ code: "custom", path: [name], message: "is required with S3_BUCKET" });
    }
  }
  if (!value.CHAIN_RPC_URL) return;
  // A web instance never signs: the relayer's key stays with the workers.
  /** @type {("CHAIN_ID" | "CROP_BATCH_ADDRESS" | "RELAYER_PRIVATE_KEY")[]} */
  const required = ["CHAIN_ID", "CROP_BATCH_ADDRESS"];
  if (value.ROLE !== "web") required.push("RELAYER_PRIVATE_KEY");
  for (const name of required) {
    if (value[name] === undefined)
      context.addIssue({ code: "custom", path: [name], message: "is required with CHAIN_RPC_URL" });
  }
  const key = value.RELAYER_PRIVATE_KEY;
  if (key && devAddresses.has(privateKeyToAccount(/** @type {`0x${string}`} */ (key)).address)) {
    context.addIssue({
      code: "custom",
      path: ["RELAYER_PRIVATE_KEY"],
      message: "is a well-known development key; refusing to use it on a real chain",
    });
  }
});

/** @param {Record<string, string | undefined>} source */
export function parseEnv(source) {
  const result = checked.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n${problems.join("\n")}`);
  }
  const { SLA_BOUNDS_MS, ...parsed } = result.data;
  const dataDir = path.resolve(parsed.DATA_DIR);
  const embedded = !parsed.DATABASE_URL;
  const primaryUrl =
    parsed.DATABASE_URL ?? `postgresql://postgres:postgres@127.0.0.1:${parsed.EMBEDDED_DB_PORT}/postgres`;
  const pools = POOL_DEFAULTS[parsed.ROLE];
  return {
    ...parsed,
    DB_POOL_WRITE_MAX: parsed.DB_POOL_WRITE_MAX ?? pools.write,
    DB_POOL_READ_MAX: parsed.DB_POOL_READ_MAX ?? pools.read,
    DB_POOL_ANALYTICS_MAX: parsed.DB_POOL_ANALYTICS_MAX ?? pools.analytics,
    dataDir,
    /** Each SLA's bound in seconds, a bucket of its histogram. */
    slaBounds: SLA_BOUNDS_MS,
    chain: parsed.CHAIN_RPC_URL
      ? {
          embedded: false,
          rpcUrl: parsed.CHAIN_RPC_URL,
          chainId: /** @type {number} */ (parsed.CHAIN_ID),
          contract: /** @type {`0x${string}`} */ (parsed.CROP_BATCH_ADDRESS?.toLowerCase()),
          startBlock: parsed.CHAIN_START_BLOCK,
          confirmations: parsed.CHAIN_CONFIRMATIONS ?? 12,
          relayerKey: /** @type {`0x${string}`} */ (parsed.RELAYER_PRIVATE_KEY),
        }
      : {
          embedded: true,
          rpcUrl: `http://127.0.0.1:${parsed.EMBEDDED_CHAIN_PORT}`,
          chainId: 31337,
          contract: undefined,
          startBlock: 0n,
          confirmations: parsed.CHAIN_CONFIRMATIONS ?? 2,
          relayerKey: undefined,
        },
    storage: parsed.S3_BUCKET
      ? {
          kind: /** @type {const} */ ("s3"),
          bucket: parsed.S3_BUCKET,
          endpoint: parsed.S3_ENDPOINT,
          region: parsed.S3_REGION,
          forcePathStyle: parsed.S3_FORCE_PATH_STYLE,
          credentials: {
            accessKeyId: /** @type {string} */ (parsed.S3_ACCESS_KEY_ID),
            secretAccessKey: /** @type {string} */ (parsed.S3_SECRET_ACCESS_KEY),
          },
        }
      : { kind: /** @type {const} */ ("disk"), dir: path.join(dataDir, "files") },
    database: {
      embedded,
      url: primaryUrl,
      readUrl: parsed.DATABASE_READ_URL ?? primaryUrl,
      analyticsUrl: parsed.DATABASE_ANALYTICS_URL ?? primaryUrl,
    },
  };
}

export const env = parseEnv(process.env);
