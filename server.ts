import type http from "node:http";
import path from "node:path";
import { closeCache } from "@/lib/cache/tiered-cache";
import { closeDatabase } from "@/lib/db/client";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "@/lib/db/embedded/start-embedded-postgres";
import { migrate } from "@/lib/db/migrate";
import { seedDemoData } from "@/lib/demo/seed-demo-data";
import { env } from "@/lib/env.mjs";
import { startDraining } from "@/lib/health/readiness";
import { createProbeServer } from "@/lib/http/ready-lane";
import { log } from "@/lib/log";
import { startWeb, type Web } from "@/lib/runtime/web";
import { startWorker, type Worker } from "@/lib/runtime/worker";
import { stopScans } from "@/lib/scans/record-scan";
import { closeTrackingBus } from "@/lib/tracking/bus";

// ROLE=all (the default) is one process doing everything; web serves HTTP; worker runs the singletons under a lease.
let embedded: EmbeddedPostgres | undefined;
if (env.database.embedded) {
  embedded = await startEmbeddedPostgres({ dataDir: path.join(env.dataDir, "pglite"), port: env.EMBEDDED_DB_PORT });
  log.info({ port: embedded.port, dataDir: env.dataDir }, "embedded PostgreSQL (PGlite) started");
}

const applied = await migrate(env.database.url);
if (applied.length) log.info({ applied }, "migrations applied");
if (env.DEMO_DATA && env.ROLE !== "web") {
  const seeded = await seedDemoData({ batches: env.DEMO_BATCHES });
  if (seeded) log.info(seeded, "demo data created");
}

const worker: Worker | undefined = env.ROLE === "web" ? undefined : await startWorker();
const web: Web | undefined = env.ROLE === "worker" ? undefined : await startWeb();
let probes: http.Server | undefined;
if (env.ROLE === "worker") {
  const server = createProbeServer();
  probes = server;
  await new Promise<void>((resolve) => server.listen(env.PORT, env.HOST, resolve));
  log.info({ url: `http://${env.HOST}:${env.PORT}/api/ready`, role: env.ROLE }, "worker started");
}

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "shutting down");
  startDraining();
  // A terminal's Ctrl-C has no balancer to tell; an orchestrator's SIGTERM does.
  await web?.drain(signal === "SIGTERM" ? env.SHUTDOWN_NOTICE_SECONDS * 1000 : 0);
  probes?.closeAllConnections();
  probes?.close();
  await worker?.stop();
  await stopScans();
  await closeCache();
  await closeTrackingBus();
  await closeDatabase();
  await embedded?.stop();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
