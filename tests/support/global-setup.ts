import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import type { TestProject } from "vitest/node";
import { type Clamd, startClamd } from "@/deploy/local/clamd";
import { type Swift, s3Env, startSwift } from "@/deploy/local/swift";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "@/lib/db/embedded/start-embedded-postgres";
import { migrate } from "@/lib/db/migrate";
import { assertLocal, createScratchDatabase, type ScratchDatabase } from "@/tests/support/scratch-database";

// TEST_DATABASE_URL / TEST_REDIS_URL pick real servers, and files then go to an S3 store (Swift, started here);
// without them the suite runs on embedded PGlite, the in-process cache and files on disk. Either way the env is set
// here, before any worker imports lib/env.mjs.
export default async function setup(_project: TestProject) {
  const dataDir = mkdtempSync(path.join(tmpdir(), "greenledger-test-"));
  const redisPrefix = `gl-test-${randomUUID().slice(0, 8)}:`;
  let scratch: ScratchDatabase | undefined;
  let embedded: EmbeddedPostgres | undefined;
  let swift: Swift | undefined;
  // Every upload in the suite is scanned, as with CLAMD_URL in production.
  const clamd: Clamd = await startClamd();
  let url: string;
  let database: Record<string, string>;

  if (process.env.TEST_DATABASE_URL) {
    assertLocal(process.env.TEST_DATABASE_URL);
    scratch = await createScratchDatabase(process.env.TEST_DATABASE_URL);
    url = scratch.url;
    swift = await startSwift();
    database = {
      DATABASE_URL: url,
      ...s3Env(swift),
    };
  } else {
    embedded = await startEmbeddedPostgres({ dataDir: "memory://", port: 0 });
    url = embedded.url;
    database = { EMBEDDED_DB_PORT: String(embedded.port) };
    delete process.env.DATABASE_URL;
    delete process.env.S3_BUCKET;
  }
  await migrate(url);
  // No chain runs in this suite: its port is one held here that drops every connection, not the default 58545,
  // where a GreenLedger started from another folder may be listening.
  const noChain = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => noChain.listen(0, "127.0.0.1", resolve));

  Object.assign(process.env, {
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATA_DIR: dataDir,
    ...database,
    SESSION_SECRET: "test-secret-test-secret-test-secret-0123456789",
    PUBLIC_BASE_URL: "http://localhost:3000",
    DB_POOL_WRITE_MAX: "10",
    DB_POOL_READ_MAX: "10",
    DB_POOL_ANALYTICS_MAX: "2",
    REDIS_KEY_PREFIX: redisPrefix,
    EMBEDDED_CHAIN_PORT: String((noChain.address() as AddressInfo).port),
    CLAMD_URL: clamd.url,
  });
  if (process.env.TEST_REDIS_URL) {
    assertLocal(process.env.TEST_REDIS_URL);
    process.env.REDIS_URL = process.env.TEST_REDIS_URL;
  } else {
    delete process.env.REDIS_URL;
  }

  return async () => {
    if (process.env.TEST_REDIS_URL) {
      const redis = new Redis(process.env.TEST_REDIS_URL);
      const keys = await redis.keys(`${redisPrefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
    await new Promise((resolve) => noChain.close(resolve));
    await scratch?.drop();
    await swift?.stop();
    await clamd.stop();
    await embedded?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
