// `npm run topology`: GreenLedger as many instances on this machine (deploy/local/topology.ts), until Ctrl-C.
import { parseArgs } from "node:util";
import { buildOursIfStale } from "@/bench/servers";
import { startTopology } from "@/deploy/local/topology";

const { values } = parseArgs({
  options: { port: { type: "string" }, "demo-batches": { type: "string", default: "500" } },
});
buildOursIfStale();
console.log("starting PostgreSQL primary + replica, Redis, anvil, 2 workers, 2 web, Varnish and HAProxy ...");
const started = Date.now();
const topology = await startTopology({
  port: values.port ? Number(values.port) : undefined,
  demoBatches: Number(values["demo-batches"]),
});
const rows: [string, string][] = [
  ["front door (HAProxy)", topology.url],
  ["page cache (Varnish)", topology.varnish.url],
  ...topology.web.map((web, index): [string, string] => [`web${index + 1}`, web.baseUrl]),
  ...topology.workers.map((worker, index): [string, string] => [`worker${index + 1}`, `${worker.baseUrl}/api/ready`]),
  ["PostgreSQL primary", topology.databaseUrl],
  ["Redis", topology.redis.url],
  ["chain (anvil)", topology.anvil.rpcUrl],
  ["logs", topology.logDir],
];
for (const [name, where] of rows) console.log(`  ${name.padEnd(22)} ${where}`);
console.log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s: open ${topology.url} (Ctrl-C stops everything)`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log("stopping ...");
  await topology.stop();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
