import "@/bench/live-env";
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { ClientCommand, ClientMessage, ClientReport, Target } from "@/bench/live-client";
import { start, waitReady } from "@/bench/processes";
import { appendResults, type Check, checks, machine } from "@/bench/report";
import { seedShipments } from "@/bench/seed";
import { startLocalChain } from "@/deploy/local/chain";
import { pgCluster } from "@/deploy/local/pg-cluster";
import { startRedisServer } from "@/deploy/local/redis-server";
import { type ServerProcess, startServerProcess } from "@/deploy/local/server-process";
import { redisBus } from "@/lib/tracking/bus";
import { SLOT_LEASE_MS } from "@/lib/tracking/stream-slots";
import { freePorts } from "@/scripts/free-port.mjs";

/**
 * Issue 13's benchmark: live positions to many SSE watchers held by several web instances on one Redis, driven by
 * client processes on distinct loopback source addresses, each shipment updated every few seconds. Prints a table per
 * run and the targets against the worst run; appends them to bench/RESULTS.md.
 */

const { values: flags } = parseArgs({
  options: {
    shipments: { type: "string", default: "5000" },
    watchers: { type: "string", default: "10" },
    servers: { type: "string", default: "4" },
    clients: { type: "string", default: "4" },
    seconds: { type: "string", default: "120" },
    runs: { type: "string", default: "3" },
    "update-seconds": { type: "string", default: "5" },
    "no-record": { type: "boolean", default: false },
  },
});

const whole = (name: keyof typeof flags) => {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a positive whole number, not '${flags[name]}'`);
    process.exit(2);
  }
  return value;
};
const SHIPMENTS = whole("shipments");
const WATCHERS = whole("watchers");
const SERVERS = whole("servers");
const CLIENTS = whole("clients");
const SECONDS = whole("seconds");
const RUNS = whole("runs");
const UPDATE_SECONDS = whole("update-seconds");
const CONNECTIONS = SHIPMENTS * WATCHERS;
const PREFIX = "bench-live:";
const WARM_SECONDS = 10;
// Each watcher's opener: enough in flight that the ramp is bounded by the servers, not by round trips.
const OPEN_CONCURRENCY = 64;
const command = `npm run bench:live${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
const startedAt = new Date();
const machineLine = machine();
const logDir = mkdtempSync(path.join(os.tmpdir(), "gl-bench-live-"));
const stops: (() => Promise<unknown>)[] = [];

function say(text: string): void {
  console.log(`[bench:live ${new Date().toISOString().slice(11, 19)}] ${text}`);
}

/** Values of one metric from an instance's /api/metrics, by its label text ("" for none). */
async function scrape(server: ServerProcess, name: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${server.baseUrl}/api/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== " " && rest[0] !== "{") continue;
    const space = rest.lastIndexOf(" ");
    values.set(rest.slice(0, space).trim(), Number(rest.slice(space + 1)));
  }
  return values;
}

const one = async (server: ServerProcess, name: string) => (await scrape(server, name)).get("") ?? Number.NaN;

function percentile(histogram: number[], share: number): number {
  const total = histogram.reduce((sum, count) => sum + count, 0);
  const wanted = Math.ceil(share * total);
  let seen = 0;
  for (const [ms, count] of histogram.entries()) {
    seen += count;
    if (seen >= wanted) return ms;
  }
  return Number.NaN;
}

type Client = { child: ChildProcess; next(type: ClientMessage["type"]): Promise<ClientMessage> };

function forkClient(index: number): Client {
  const child = fork(path.join(import.meta.dirname, "live-client.ts"), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const waiting: { type: string; resolve: (message: ClientMessage) => void }[] = [];
  child.on("message", (message: ClientMessage) => {
    const at = waiting.findIndex((waiter) => waiter.type === message.type);
    if (at >= 0) waiting.splice(at, 1)[0]?.resolve(message);
  });
  child.once("exit", (code) => {
    if (code) console.error(`live client ${index} exited with ${code}`);
  });
  return {
    child,
    next: (type) => new Promise((resolve) => waiting.push({ type, resolve })),
  };
}

const tell = (client: Client, message: ClientCommand) => client.child.send(message);

/** A fix for each shipment every UPDATE_SECONDS, spread evenly over time as phones would send them. */
function startPublisher(bus: ReturnType<typeof redisBus>, tokenIds: number[], final: Map<number, number>) {
  const perSecond = tokenIds.length / UPDATE_SECONDS;
  const started = performance.now();
  let sent = 0;
  let failed = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
    for (; sent < due; sent += 1) {
      const tokenId = tokenIds[sent % tokenIds.length] as number;
      const fix = { lat: 52 + (sent % 1000) / 10_000, lng: 4.3, accuracy: 5, time: new Date() };
      bus.publish(String(tokenId), fix).then(
        (update) => final.set(tokenId, Math.max(final.get(tokenId) ?? 0, update.offset)),
        () => {
          failed += 1;
        },
      );
    }
  }, 2);
  return {
    stop() {
      clearInterval(timer);
      return { sent, failed };
    },
  };
}

type Sample = { heap: number; rss: number; streams: number };

async function sample(servers: ServerProcess[]): Promise<Sample[]> {
  return Promise.all(
    servers.map(async (server) => ({
      heap: await one(server, "gl_nodejs_heap_size_used_bytes"),
      rss: await one(server, "gl_process_resident_memory_bytes"),
      streams: await one(server, "gl_live_streams"),
    })),
  );
}

/** Per server the lowest heap and RSS seen over `seconds` (what stays once the garbage between samples is gone). */
async function lowest(servers: ServerProcess[], seconds: number): Promise<Sample[]> {
  let low = await sample(servers);
  for (let index = 1; index < seconds; index += 1) {
    await delay(1_000);
    const next = await sample(servers);
    low = low.map((value, at) => ({
      heap: Math.min(value.heap, next[at]?.heap ?? Number.POSITIVE_INFINITY),
      rss: Math.min(value.rss, next[at]?.rss ?? Number.POSITIVE_INFINITY),
      streams: next[at]?.streams ?? value.streams,
    }));
  }
  return low;
}

/** Cumulative delivery-lag buckets summed over the instances, by their upper bound in s. */
async function serverLag(servers: ServerProcess[]): Promise<Map<string, number>> {
  const sum = new Map<string, number>();
  for (const server of servers) {
    for (const [labels, value] of await scrape(server, "gl_live_delivery_seconds_bucket")) {
      sum.set(labels, (sum.get(labels) ?? 0) + value);
    }
  }
  return sum;
}

/** The smallest bucket bound holding `share` of the deliveries between two scrapes, as "<= N ms". */
function serverPercentile(before: Map<string, number>, after: Map<string, number>, share: number): string {
  const buckets = [...after]
    .map(([labels, count]) => ({
      le: labels.match(/le="([^"]+)"/)?.[1] ?? "+Inf",
      count: count - (before.get(labels) ?? 0),
    }))
    .sort((a, b) => Number(a.le) - Number(b.le));
  const total = buckets.at(-1)?.count ?? 0;
  const bucket = buckets.find((entry) => entry.count >= share * total);
  return bucket ? `<= ${Number(bucket.le) * 1000} ms` : "n/a";
}

type RunResult = {
  run: number;
  server: "ours" | "limit";
  opened: number;
  rampSeconds: number;
  deliveries: number;
  perSecond: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  skipped: number;
  repeated: number;
  lost: number;
  /** Connections that never got an update. */
  silent: number;
  disconnects: number;
  heapPerConnection: number;
  rssPerConnection: number;
  clientLoopP99: number;
  clientLoopMax: number;
  publisherLoopMax: number;
  serverLoopP99: number;
  serverP99: string;
  serverP999: string;
  slowClosed: number;
  publishFailed: number;
};

async function oneRun(
  run: number,
  server: RunResult["server"],
  servers: ServerProcess[],
  targets: Target[][],
  bus: ReturnType<typeof redisBus>,
  tokenIds: number[],
): Promise<RunResult> {
  say(`run ${run}: baseline heap of ${SERVERS} instances`);
  const base = await lowest(servers, 5);
  const final = new Map<number, number>();
  const publisher = startPublisher(bus, tokenIds, final);
  const clients = targets.map((_, index) => forkClient(index));
  try {
    const rampStarted = Date.now();
    const opened = await Promise.all(
      clients.map((client, index) => {
        const answer = client.next("opened");
        tell(client, {
          type: "open",
          targets: targets[index] ?? [],
          localAddress: `127.0.0.${index + 2}`,
          concurrency: OPEN_CONCURRENCY,
        });
        return answer;
      }),
    );
    const rampSeconds = (Date.now() - rampStarted) / 1000;
    const ok = opened.reduce((sum, message) => sum + (message.type === "opened" ? message.ok : 0), 0);
    const failed = opened.flatMap((message) => (message.type === "opened" ? Object.entries(message.failed) : []));
    say(
      `run ${run}: ${ok.toLocaleString("en-US")} streams open in ${rampSeconds.toFixed(1)} s${failed.length ? `; refused: ${JSON.stringify(failed)}` : ""}`,
    );
    await delay(WARM_SECONDS * 1000);

    const lagBefore = await serverLag(servers);
    const slowBefore = (
      await Promise.all(servers.map((server) => one(server, "gl_live_slow_watchers_closed_total")))
    ).reduce((a, b) => a + b, 0);
    for (const client of clients) tell(client, { type: "measure" });
    const publisherLoop = monitorEventLoopDelay({ resolution: 1 });
    publisherLoop.enable();
    say(`run ${run}: measuring for ${SECONDS} s`);
    // Nothing scrapes the instances while lags are measured: a scrape costs each of them a few ms.
    await delay(SECONDS * 1000);
    const serverLoopP99 = Math.max(
      ...(await Promise.all(servers.map((server) => one(server, "gl_nodejs_eventloop_lag_p99_seconds")))),
    );
    const { failed: publishFailed } = publisher.stop();
    publisherLoop.disable();
    // What is on its way arrives before the offsets are compared.
    await delay(2_000);
    const lagAfter = await serverLag(servers);
    const slowAfter = (
      await Promise.all(servers.map((server) => one(server, "gl_live_slow_watchers_closed_total")))
    ).reduce((a, b) => a + b, 0);
    const reports = (
      await Promise.all(
        clients.map((client) => {
          const answer = client.next("report");
          tell(client, { type: "report" });
          return answer;
        }),
      )
    ).flatMap((message) => (message.type === "report" ? [message.report] : []));
    const steady = await lowest(servers, 5);

    const lagMs = (reports[0]?.lagMs ?? []).map((_, ms) =>
      reports.reduce((sum, report) => sum + (report.lagMs[ms] ?? 0), 0),
    );
    const total = (pick: (report: ClientReport) => number) => reports.reduce((sum, report) => sum + pick(report), 0);
    let lost = 0;
    let silent = 0;
    for (const report of reports) {
      for (const [tokenId, last] of report.last) {
        if (last) lost += Math.max(0, (final.get(tokenId) ?? 0) - last);
        else silent += 1;
      }
    }
    const perConnection = (key: "heap" | "rss") =>
      Math.max(
        ...servers.map((_, at) => {
          const streams = steady[at]?.streams ?? 0;
          return streams ? ((steady[at]?.[key] ?? 0) - (base[at]?.[key] ?? 0)) / streams : Number.NaN;
        }),
      );
    const deliveries = total((report) => report.deliveries);
    return {
      run,
      server,
      opened: ok,
      rampSeconds,
      deliveries,
      perSecond: deliveries / (SECONDS + 2),
      p50: percentile(lagMs, 0.5),
      p99: percentile(lagMs, 0.99),
      p999: percentile(lagMs, 0.999),
      max: percentile(lagMs, 1),
      skipped: total((report) => report.skipped),
      repeated: total((report) => report.repeated),
      lost,
      silent,
      disconnects: total((report) => report.disconnects),
      heapPerConnection: perConnection("heap"),
      rssPerConnection: perConnection("rss"),
      clientLoopP99: Math.max(...reports.map((report) => report.loopDelayP99)),
      clientLoopMax: Math.max(...reports.map((report) => report.loopDelayMax)),
      publisherLoopMax: publisherLoop.max / 1e6,
      serverLoopP99: serverLoopP99 * 1000,
      serverP99: serverPercentile(lagBefore, lagAfter, 0.99),
      serverP999: serverPercentile(lagBefore, lagAfter, 0.999),
      slowClosed: slowAfter - slowBefore,
      publishFailed,
    };
  } finally {
    publisher.stop();
    for (const client of clients) if (client.child.connected) tell(client, { type: "close" });
    await Promise.all(clients.map((client) => new Promise((resolve) => client.child.once("exit", resolve))));
    const deadline = Date.now() + 60_000;
    while ((await sample(servers)).some((server) => server.streams > 0) && Date.now() < deadline) await delay(500);
    // A slot whose release did not reach Redis (its circuit opened under the ramp's load) lapses with its lease: the
    // next run's watchers would otherwise find their user's 10 slots still taken.
    await delay(SLOT_LEASE_MS);
  }
}

/** As many limit servers as instances, each taking the streams one instance took. */
async function startLimits(redisUrl: string): Promise<ServerProcess[]> {
  const ports = (await freePorts(SERVERS)) as number[];
  return Promise.all(
    ports.map(async (port, index) => {
      const child = start(`limit-${index}`, process.execPath, ["--import", "tsx", "bench/live-limit-server.ts"], {
        env: { PORT: String(port), REDIS_URL: redisUrl, LIMIT_PREFIX: PREFIX },
        logDir,
      });
      const baseUrl = `http://127.0.0.1:${port}`;
      await waitReady(child, `${baseUrl}/api/metrics`, 30_000, (status) => status === 200);
      return { child, baseUrl, port };
    }),
  );
}

const number = (value: number, digits = 0) =>
  value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

function runTable(results: RunResult[]): string {
  return [
    "| run | server | streams open | ramp s | deliveries | deliveries/s | P50 ms | P99 ms | P99.9 ms | max ms | server P99 | server P99.9 | skipped | repeated | lost | silent | disconnects | slow closed | heap/conn | RSS/conn | client loop p99 / max ms | publisher loop max ms | server loop p99 ms |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...results.map(
      (r) =>
        `| ${r.run} | ${r.server} | ${number(r.opened)} | ${number(r.rampSeconds, 1)} | ${number(r.deliveries)} | ${number(r.perSecond)} | ${r.p50} | ${r.p99} | ${r.p999} | ${r.max} | ${r.serverP99} | ${r.serverP999} | ${r.skipped} | ${r.repeated} | ${r.lost} | ${r.silent} | ${r.disconnects} | ${r.slowClosed} | ${number(r.heapPerConnection / 1024, 1)} KB | ${number(r.rssPerConnection / 1024, 1)} KB | ${number(r.clientLoopP99, 1)} / ${number(r.clientLoopMax, 1)} | ${number(r.publisherLoopMax, 1)} | ${number(r.serverLoopP99, 1)} |`,
    ),
  ].join("\n");
}

function targetChecks(all: RunResult[]): Check[] {
  const results = all.filter((r) => r.server === "ours");
  const limit = all.find((r) => r.server === "limit");
  const worst = (pick: (r: RunResult) => number) => Math.max(...results.map(pick));
  return [
    {
      target: `${number(CONNECTIONS)} streams open on ${SERVERS} instances`,
      measured: `fewest in a run: ${number(Math.min(...results.map((r) => r.opened)))}`,
      pass: results.every((r) => r.opened === CONNECTIONS),
    },
    {
      target: "0 disconnects, 0 lost updates (offset continuity per connection, last offset = last published)",
      measured: `disconnects ${worst((r) => r.disconnects)}, skipped ${worst((r) => r.skipped)}, repeated ${worst((r) => r.repeated)}, lost ${worst((r) => r.lost)}, never got one ${worst((r) => r.silent)}, publishes failed ${worst((r) => r.publishFailed)}`,
      pass: results.every(
        (r) => !r.disconnects && !r.skipped && !r.repeated && !r.lost && !r.silent && !r.publishFailed,
      ),
    },
    {
      target: "delivery P99.9 < 50 ms (publish -> watcher's socket)",
      measured: `${worst((r) => r.p999)} ms`,
      pass: worst((r) => r.p999) < 50,
    },
    { target: "delivery p99 < 20 ms", measured: `${worst((r) => r.p99)} ms`, pass: worst((r) => r.p99) < 20 },
    {
      target: "server heap per connection <= 8 KB",
      measured: `${number(worst((r) => r.heapPerConnection) / 1024, 1)} KB`,
      pass: worst((r) => r.heapPerConnection) <= 8 * 1024,
    },
    {
      target: "trust: the client processes' event-loop delay stayed under 25 ms",
      measured: `max ${number(
        worst((r) => r.clientLoopMax),
        1,
      )} ms (p99 ${number(
        worst((r) => r.clientLoopP99),
        1,
      )} ms)`,
      pass: worst((r) => r.clientLoopMax) < 25,
    },
    {
      target: "beside the limit (bare node:http fan-out of the same Redis messages, same load, same machine)",
      measured: limit
        ? `ours worst p99 / P99.9 ${worst((r) => r.p99)} / ${worst((r) => r.p999)} ms; limit ${limit.p99} / ${limit.p999} ms (its clients' loop max ${number(limit.clientLoopMax, 1)} ms)`
        : "not run",
      pass: null,
    },
  ];
}

async function main(): Promise<void> {
  say(
    `${number(SHIPMENTS)} shipments x ${WATCHERS} watchers on ${SERVERS} instances from ${CLIENTS} clients; logs in ${logDir}`,
  );
  const cluster = pgCluster();
  stops.push(() => cluster.destroy());
  const { url } = await cluster.start();
  const redis = await startRedisServer();
  stops.push(() => redis.stop());
  const chain = await startLocalChain();
  stops.push(() => chain.stop());
  const shipments = await seedShipments(url, SHIPMENTS);
  const servers = await Promise.all(
    Array.from({ length: SERVERS }, (_, index) =>
      startServerProcess(`web-${index}`, logDir, {
        ...chain.env,
        ROLE: "web",
        DATABASE_URL: url,
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: PREFIX,
        SESSION_SECRET: process.env.SESSION_SECRET ?? "",
        LIVE_STREAMS_PER_ADDRESS: String(CONNECTIONS),
        // The connection budget (README): the instances' pools within the cluster's max_connections of 100.
        DB_POOL_WRITE_MAX: String(Math.floor(40 / SERVERS)),
        DB_POOL_READ_MAX: String(Math.floor(40 / SERVERS)),
        DB_POOL_ANALYTICS_MAX: "1",
        LOG_LEVEL: "warn",
      }),
    ),
  );
  for (const server of servers) stops.push(() => server.child.stop());
  const bus = redisBus(redis.url, PREFIX);
  stops.push(() => bus.close());
  const tokenIds = shipments.map((shipment) => shipment.tokenId);
  // Every journey has a position before anyone watches: a new watcher's first event is the latest one.
  await Promise.all(
    tokenIds.map((tokenId) => bus.publish(String(tokenId), { lat: 52, lng: 4.3, accuracy: 5, time: new Date() })),
  );

  const { createSessionCookie } = await import("@/lib/auth/session");
  const targets: Target[][] = Array.from({ length: CLIENTS }, () => []);
  let index = 0;
  for (const shipment of shipments) {
    const cookie = (await createSessionCookie(shipment.owner)).split(";")[0] ?? "";
    for (let watcher = 0; watcher < WATCHERS; watcher += 1, index += 1) {
      targets[index % CLIENTS]?.push({
        port: (servers[Math.floor(index / CLIENTS) % SERVERS] as ServerProcess).port,
        path: `/api/crop-batches/${shipment.tokenId}/live`,
        cookie,
        tokenId: shipment.tokenId,
      });
    }
  }

  const results: RunResult[] = [];
  for (let run = 1; run <= RUNS; run += 1) results.push(await oneRun(run, "ours", servers, targets, bus, tokenIds));
  for (const server of servers) await server.child.stop();
  const limits = await startLimits(redis.url);
  for (const limit of limits) stops.push(() => limit.child.stop());
  const byPort = new Map(servers.map((server, at) => [server.port, (limits[at] as ServerProcess).port]));
  const limitTargets = targets.map((list) => list.map((target) => ({ ...target, port: byPort.get(target.port) ?? 0 })));
  results.push(await oneRun(RUNS + 1, "limit", limits, limitTargets, bus, tokenIds));

  const setup = `${number(SHIPMENTS)} in-transit shipments x ${WATCHERS} watchers (the owner's session: the per-user limit of 10 holds) = ${number(CONNECTIONS)} SSE streams on ${SERVERS} ROLE=web instances, one Redis and one PostgreSQL of the bench's own; ${CLIENTS} client processes (bench/live-client.ts), each on its own source address 127.0.0.2-${CLIENTS + 1}; each shipment updated every ${UPDATE_SECONDS} s from this process (${number(SHIPMENTS / UPDATE_SECONDS)} publishes/s, ${number((SHIPMENTS * WATCHERS) / UPDATE_SECONDS)} deliveries/s), spread evenly; ${WARM_SECONDS} s after the ramp, then ${SECONDS} s measured; lag = a watcher's arrival time - the publish time in the update, same clock, ms resolution; then one run of the same load against the limit (bench/live-limit-server.ts, bare node:http, one process per instance)`;
  const section = [
    `## Live tracking (${command}), ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`,
    "",
    `- Command: \`${command}\``,
    `- Machine: ${machineLine}`,
    `- Setup: ${setup}`,
    "",
    runTable(results),
    "",
    checks(targetChecks(results)),
  ].join("\n");
  console.log(`\n${section}\n`);
  if (!flags["no-record"]) appendResults(path.join(import.meta.dirname, "RESULTS.md"), section);
}

let finished = false;
try {
  await main();
  finished = true;
} finally {
  for (const stop of stops.reverse()) await stop().catch((error: unknown) => console.error(error));
  // A failed run keeps its servers' logs.
  if (finished) rmSync(logDir, { recursive: true, force: true });
}
