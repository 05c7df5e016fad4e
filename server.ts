import http from "node:http";
import path from "node:path";
import next from "next";
import { refreshAnalytics } from "@/lib/analytics/refresh-analytics";
import { onBatchChanged } from "@/lib/batches/on-batch-changed";
import { closeCache } from "@/lib/cache/tiered-cache";
import { startChain } from "@/lib/chain/start-chain";
import { closeDatabase, db } from "@/lib/db/client";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "@/lib/db/embedded/start-embedded-postgres";
import { migrate } from "@/lib/db/migrate";
import { seedDemoData } from "@/lib/demo/seed-demo-data";
import { env } from "@/lib/env.mjs";
import { createGateway } from "@/lib/http/gateway";
import { purgeExpiredIdempotencyKeys } from "@/lib/idempotency/with-idempotency";
import { log } from "@/lib/log";
import { stopScans } from "@/lib/scans/record-scan";
import { warmVerifications } from "@/lib/verify/warm-verifications";

let embedded: EmbeddedPostgres | undefined;
if (env.database.embedded) {
  embedded = await startEmbeddedPostgres({ dataDir: path.join(env.dataDir, "pglite"), port: env.EMBEDDED_DB_PORT });
  log.info({ port: embedded.port, dataDir: env.dataDir }, "embedded PostgreSQL (PGlite) started");
}

const applied = await migrate(env.database.url);
if (applied.length) log.info({ applied }, "migrations applied");
if (env.DEMO_DATA) {
  const seeded = await seedDemoData({ batches: env.DEMO_BATCHES });
  if (seeded) log.info(seeded, "demo data created");
}

const chain = await startChain({
  db,
  config: env.chain,
  dataDir: env.dataDir,
  embeddedPort: env.EMBEDDED_CHAIN_PORT,
  blockSeconds: env.EMBEDDED_CHAIN_BLOCK_SECONDS,
  dumpSeconds: env.EMBEDDED_CHAIN_DUMP_SECONDS,
  onTokensChanged: (tokenIds) => onBatchChanged(...tokenIds),
});

const app = next({ dev: env.NODE_ENV === "development", dir: process.cwd(), hostname: env.HOST, port: env.PORT });
await app.prepare();
const handle = app.getRequestHandler();
const server = http.createServer(createGateway(handle));
await new Promise<void>((resolve) => server.listen(env.PORT, env.HOST, resolve));
log.info({ url: `http://${env.HOST}:${env.PORT}` }, "GreenLedger is ready");
// After listening, so a start is not held up; the first scans of a hot token wait on its load only once.
if (env.CACHE_WARM_TOKENS > 0) {
  warmVerifications(env.CACHE_WARM_TOKENS).catch((error) => log.warn({ err: error }, "cache warm-up failed"));
}

async function maintenance(): Promise<void> {
  try {
    await refreshAnalytics();
    await purgeExpiredIdempotencyKeys();
  } catch (error) {
    log.warn({ err: error }, "scheduled maintenance failed");
  }
}
const timer = setInterval(maintenance, env.ANALYTICS_REFRESH_SECONDS * 1000);
timer.unref();

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "shutting down");
  clearInterval(timer);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await chain.stop();
  await stopScans();
  await closeCache();
  await closeDatabase();
  await embedded?.stop();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
