import path from "node:path";
import { z } from "zod";

const optionalUrl = z
  .string()
  .trim()
  .transform((value) => value || undefined)
  .pipe(z.url().optional())
  .optional();

const flag = z.enum(["true", "false", "1", "0"]).transform((value) => value === "true" || value === "1");

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
  DB_POOL_WRITE_MAX: z.coerce.number().int().min(1).default(20),
  DB_POOL_READ_MAX: z.coerce.number().int().min(1).default(50),
  DB_POOL_ANALYTICS_MAX: z.coerce.number().int().min(1).default(10),
  REDIS_URL: optionalUrl,
  REDIS_KEY_PREFIX: z.string().min(1).max(64).default("gl:"),
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
  ANALYTICS_REFRESH_SECONDS: z.coerce.number().int().min(10).default(300),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/** @param {Record<string, string | undefined>} source */
export function parseEnv(source) {
  const result = schema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n${problems.join("\n")}`);
  }
  const parsed = result.data;
  const dataDir = path.resolve(parsed.DATA_DIR);
  const embedded = !parsed.DATABASE_URL;
  const primaryUrl =
    parsed.DATABASE_URL ?? `postgresql://postgres:postgres@127.0.0.1:${parsed.EMBEDDED_DB_PORT}/postgres`;
  return {
    ...parsed,
    dataDir,
    database: {
      embedded,
      url: primaryUrl,
      readUrl: parsed.DATABASE_READ_URL ?? primaryUrl,
      analyticsUrl: parsed.DATABASE_ANALYTICS_URL ?? primaryUrl,
    },
  };
}

export const env = parseEnv(process.env);
