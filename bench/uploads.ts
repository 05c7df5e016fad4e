import "@/bench/uploads-env";
import { type ChildProcess, fork, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import { type Child, machineQuiet, start, waitReady } from "@/bench/processes";
import { appendResults, type Check, checks, machine } from "@/bench/report";
import type { ClientCommand, ClientMessage, ClientUpload, UploadMode, UploadResult } from "@/bench/upload-client";
import { type FileSet, type UploadFile, uploadFiles } from "@/bench/upload-files";
import { type PgCluster, pgCluster } from "@/deploy/local/pg-cluster";
import { type ServerProcess, startServerProcess } from "@/deploy/local/server-process";
import { freePort } from "@/scripts/free-port.mjs";
import { farmerWithFarm } from "@/tests/support/farmer";
import { CERTIFICATE } from "@/tests/support/files";

/**
 * The uploads benchmark: N concurrent tus uploads on loopback (80 % photos of ~230 KB, 20 % certificate PDFs of
 * ~180 KB, each file's bytes its own), all started within a second by forked client processes, against the production
 * server (ROLE=all, a PostgreSQL cluster and a DATA_DIR of its own for each run), with the generator's ceiling (a
 * node:http sink), the limit (bare @tus/server + @tus/file-store, without and with an fsync per file) and a naive
 * peer (the same uploads to the same server as POST then PATCH) in the same command. Prints a table per run and the
 * targets against the median of our runs; appends them to bench/RESULTS.md.
 */

const { values: flags } = parseArgs({
  options: {
    uploads: { type: "string", default: "1000" },
    runs: { type: "string", default: "3" },
    clients: { type: "string", default: "2" },
    batches: { type: "string", default: "10" },
    "spread-ms": { type: "string", default: "800" },
    warmup: { type: "string", default: "10" },
    "ready-timeout": { type: "string", default: "600" },
    files: { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    "ours-only": { type: "boolean", default: false },
    "no-record": { type: "boolean", default: false },
  },
});

const whole = (name: keyof typeof flags, min = 1) => {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < min) {
    console.error(`--${name} must be a whole number >= ${min}, not '${flags[name]}'`);
    process.exit(2);
  }
  return value;
};
const UPLOADS = whole("uploads");
const RUNS = whole("runs");
const CLIENTS = whole("clients");
const BATCHES = whole("batches");
const SPREAD_MS = whole("spread-ms", 0);
const WARMUP = whole("warmup", 0);
const READY_TIMEOUT_MS = whole("ready-timeout") * 1000;
const PHOTOS = Math.round(UPLOADS * 0.8);
const CERTIFICATES = UPLOADS - PHOTOS;
const WARM_PHOTOS = Math.ceil(WARMUP / 2);
const WARM_CERTIFICATES = WARMUP - WARM_PHOTOS;
const DECLARE_CONCURRENCY = 16;
const TARGET_P999_MS = 5_000;
const TARGET_READY_MS = 60_000;
const CLOCK_TICK_MS = 10;
// The clients run at a higher priority than the servers: on 2 shared cores a saturated server would otherwise delay the
// clients' starts and their reading of answers, which the bench would count as the server's speed.
const CLIENT_NICE = -10;
const UPLOAD_PATH = "/api/uploads";
const command = `npm run bench:uploads${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
const startedAt = new Date();
const machineLine = machine();
const codeLine = code();
const logDir = mkdtempSync(path.join(os.tmpdir(), "gl-bench-uploads-"));
const stops: (() => Promise<unknown>)[] = [];
/** What happened on the machine during a run that its figures should be read with. */
const disturbed: string[] = [];

/** The commit the servers ran, and how many files the working tree had changed beside it (other work in progress). */
function code(): string {
  const git = (...args: string[]) => spawnSync("git", args, { encoding: "utf8" }).stdout.trim();
  const changed = git("status", "--porcelain", "--untracked-files=no").split("\n").filter(Boolean).length;
  return `${git("rev-parse", "--abbrev-ref", "HEAD")} ${git("log", "-1", "--format=%h (%s)").slice(0, 100)}${changed ? `; ${changed} tracked files changed in the working tree` : ""}`;
}

function say(text: string): void {
  console.log(`[bench:uploads ${new Date().toISOString().slice(11, 19)}] ${text}`);
}

const number = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "n/a";

/** The fields of /proc/<pid>/stat after the command name (the first is field 3, the state); null once it is gone. */
function statFields(pid: number | string): number[] | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  return stat
    .slice(stat.lastIndexOf(")") + 2)
    .split(" ")
    .map(Number);
}

/** CPU time (user + system, ms) of a process; with `children`, also of the children it has waited for. */
function cpuOf(pid: number, children = false): number {
  const fields = statFields(pid) ?? [];
  // utime, stime, cutime and cstime are fields 14-17.
  const own = (fields[11] ?? 0) + (fields[12] ?? 0);
  return (own + (children ? (fields[13] ?? 0) + (fields[14] ?? 0) : 0)) * CLOCK_TICK_MS;
}

/** CPU time (ms) of a PostgreSQL cluster: the postmaster with the backends it has reaped, and those still running. */
function clusterCpu(dataDir: string): number {
  const postmaster = Number(readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  let total = cpuOf(postmaster, true);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    // Field 4 is the parent's pid.
    if (fields?.[1] === postmaster) total += ((fields[11] ?? 0) + (fields[12] ?? 0)) * CLOCK_TICK_MS;
  }
  return total;
}

/** With --cpu-prof, what makes a server preload bench/cpu-profile.mjs (Node 20 refuses --cpu-prof in NODE_OPTIONS). */
function profiled(): Record<string, string> {
  if (!flags["cpu-prof"]) return {};
  return {
    NODE_OPTIONS: `--import ${path.join(import.meta.dirname, "cpu-profile.mjs")}`,
    CPU_PROFILE_DIR: path.join(logDir, "profiles"),
  };
}

/** With --cpu-prof, starts (or stops and writes) the server's main-thread profile. */
async function toggleProfile(pid: number, stop = false): Promise<void> {
  if (!flags["cpu-prof"]) return;
  process.kill(pid, "SIGUSR2");
  // Written in the server's next turn: a server stopped at once (the limit has no SIGTERM handler) would lose it.
  if (stop) await delay(3_000);
}

/** Nearest rank: the smallest value with at least `share` of the values at or below it. */
function percentile(sorted: number[], share: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.max(0, Math.ceil(share * sorted.length) - 1)] as number;
}

function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!sorted.length) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function shuffle<T>(items: T[]): T[] {
  for (let at = items.length - 1; at > 0; at -= 1) {
    const other = Math.floor(Math.random() * (at + 1));
    [items[at], items[other]] = [items[other] as T, items[at] as T];
  }
  return items;
}

type Planned = { id: string; upload: UploadFile };

/** The files in a random order, each with an attachment id of its own (fresh per run). */
function plan(files: FileSet): Planned[] {
  return shuffle([...files.photos, ...files.certificates].map((upload) => ({ id: randomUUID(), upload })));
}

let clientsNiced = true;

type Client = { child: ChildProcess; next(type: ClientMessage["type"]): Promise<ClientMessage> };

function forkClient(): Client {
  const child = fork(path.join(import.meta.dirname, "upload-client.ts"), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  try {
    os.setPriority(child.pid ?? 0, CLIENT_NICE);
  } catch {
    clientsNiced = false;
  }
  const waiting: { type: string; resolve: (message: ClientMessage) => void }[] = [];
  child.on("message", (message: ClientMessage) => {
    const at = waiting.findIndex((waiter) => waiter.type === message.type);
    if (at >= 0) waiting.splice(at, 1)[0]?.resolve(message);
  });
  return { child, next: (type) => new Promise((resolve) => waiting.push({ type, resolve })) };
}

type Driven = {
  results: UploadResult[];
  clientCpuMs: number;
  clientLoopMax: number;
};

/**
 * The uploads from CLIENTS forked processes, the i-th (in the plan's random order) started i x SPREAD_MS / N after a
 * common moment; resolves with each upload's outcome once every client has reported.
 */
async function drive(port: number, cookie: string, mode: UploadMode, planned: Planned[]): Promise<Driven> {
  const clients = Array.from({ length: CLIENTS }, forkClient);
  try {
    const shares: ClientUpload[][] = clients.map(() => []);
    for (const [index, item] of planned.entries()) {
      shares[index % CLIENTS]?.push({
        id: item.id,
        file: item.upload.file,
        size: item.upload.size,
        offsetMs: planned.length > 1 ? (index * SPREAD_MS) / planned.length : 0,
      });
    }
    await Promise.all(
      clients.map((client, index) => {
        const loaded = client.next("loaded");
        const load: ClientCommand = {
          type: "load",
          port,
          path: UPLOAD_PATH,
          cookie,
          mode,
          uploads: shares[index] ?? [],
        };
        client.child.send(load);
        return loaded;
      }),
    );
    const at = Date.now() + 500;
    const reports = await Promise.all(
      clients.map((client) => {
        const answer = client.next("results");
        client.child.send({ type: "go", at } satisfies ClientCommand);
        return answer;
      }),
    );
    const done = reports.flatMap((message) => (message.type === "results" ? [message] : []));
    const results = done.flatMap((report) => report.results);
    return {
      results,
      clientCpuMs: done.reduce((sum, report) => sum + report.cpuMs, 0),
      clientLoopMax: Math.max(...done.map((report) => report.loopDelayMax)),
    };
  } finally {
    for (const client of clients) if (client.child.exitCode === null) client.child.kill();
  }
}

type RunResult = {
  run: number;
  server: "ceiling" | "limit" | "limit + fsync" | "ours" | "naive";
  mode: UploadMode;
  quiet: boolean;
  uploads: number;
  errors: number;
  errorKinds: Record<string, number>;
  /** Stored complete: attachments received or ready in the database (ours), files of the full size (limit). */
  records: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** First to last upload's start, the latest start against its schedule, the most uploads in flight at once. */
  startSpanMs: number;
  lateMaxMs: number;
  peakInFlight: number;
  serverCpuMs: number;
  databaseCpuMs: number;
  clientCpuMs: number;
  clientLoopMax: number;
  /** Ours only: declarations (before the timed phase), processing and the stored files. */
  declaredPerSecond: number;
  readyAtLastAnswer: number;
  ready: number;
  rejected: number;
  /** First upload's start to the last ready_at (ms), and the server's CPU over that span. */
  allReadyMs: number;
  serverCpuToReadyMs: number;
  /** The server's CPU per file processed after the last answer, and the upload phase's CPU less the files processed in it. */
  processingCpuMs: number;
  receiveCpuMs: number;
  distinctFiles: number;
};

function latency(driven: Driven) {
  const ok = driven.results.filter((result) => !result.error);
  const sorted = driven.results.map((result) => result.ms).sort((a, b) => a - b);
  const starts = driven.results.map((result) => result.startedAt);
  const edges = driven.results
    .flatMap((result) => [
      { at: result.startedAt, step: 1 },
      { at: result.startedAt + result.ms, step: -1 },
    ])
    .sort((a, b) => a.at - b.at || a.step - b.step);
  let inFlight = 0;
  let peakInFlight = 0;
  for (const edge of edges) {
    inFlight += edge.step;
    peakInFlight = Math.max(peakInFlight, inFlight);
  }
  const errorKinds: Record<string, number> = {};
  for (const result of driven.results.filter((item) => item.error)) {
    const kind = `${result.status} ${result.error?.slice(0, 80)}`;
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  }
  return {
    uploads: driven.results.length,
    errors: driven.results.length - ok.length,
    errorKinds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted.at(-1) ?? Number.NaN,
    startSpanMs: Math.max(...starts) - Math.min(...starts),
    lateMaxMs: Math.max(...driven.results.map((result) => result.lateMs)),
    peakInFlight,
    clientCpuMs: driven.clientCpuMs,
    clientLoopMax: driven.clientLoopMax,
  };
}

const notOurs = {
  declaredPerSecond: Number.NaN,
  readyAtLastAnswer: Number.NaN,
  ready: Number.NaN,
  rejected: Number.NaN,
  allReadyMs: Number.NaN,
  serverCpuToReadyMs: Number.NaN,
  processingCpuMs: Number.NaN,
  receiveCpuMs: Number.NaN,
  distinctFiles: Number.NaN,
  databaseCpuMs: Number.NaN,
};

/** The ceiling (sink) or the limit (bare tus, optionally fsyncing): one run of the same uploads. */
async function bareRun(run: number, server: "ceiling" | "limit" | "limit + fsync", files: FileSet): Promise<RunResult> {
  const port = await freePort();
  const directory = path.join(logDir, `store-${run}`);
  const script = server === "ceiling" ? "bench/upload-sink.ts" : "bench/upload-limit-server.ts";
  const child: Child = start(server.replaceAll(" ", ""), process.execPath, ["--import", "tsx", script], {
    env: {
      PORT: String(port),
      LIMIT_DIR: directory,
      LIMIT_SYNC: server === "limit + fsync" ? "1" : "0",
      ...profiled(),
    },
    logDir,
  });
  stops.push(() => child.stop());
  try {
    await waitReady(child, `http://127.0.0.1:${port}/ready`, 30_000, (status) => status === 200);
    const planned = plan(files);
    const quiet = await machineQuiet();
    say(`run ${run} (${server}): ${planned.length} uploads${quiet ? "" : " (the machine was not quiet)"}`);
    await toggleProfile(child.pid);
    const cpuBefore = cpuOf(child.pid);
    const driven = await drive(port, "", "creation", planned);
    const serverCpuMs = cpuOf(child.pid) - cpuBefore;
    await toggleProfile(child.pid, true);
    const records =
      server === "ceiling"
        ? Number.NaN
        : planned.filter((item) => {
            const file = path.join(directory, item.id);
            return existsSync(file) && statSync(file).size === item.upload.size;
          }).length;
    return { run, server, mode: "creation", quiet, records, serverCpuMs, ...latency(driven), ...notOurs };
  } finally {
    stops.pop();
    await child.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

type Ours = {
  cluster: PgCluster;
  dataDir: string;
  server: ServerProcess;
  sql: pg.Pool;
  cookie: string;
  tokenIds: number[];
};

async function api(ours: Pick<Ours, "server" | "cookie">, pathname: string, body: unknown) {
  const response = await fetch(`${ours.server.baseUrl}${pathname}`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: ours.cookie },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function declaration(item: Planned) {
  const { upload } = item;
  return upload.kind === "photo"
    ? { id: item.id, kind: "photo", type: upload.type, size: upload.size }
    : {
        id: item.id,
        kind: "certificate",
        type: upload.type,
        size: upload.size,
        fileName: "certificate.pdf",
        certificate: CERTIFICATE,
      };
}

/** Declares each planned file on one of the batches, DECLARE_CONCURRENCY at a time; declarations per second. */
async function declareAll(ours: Ours, planned: Planned[], tokenIds: number[]): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: DECLARE_CONCURRENCY }, async () => {
      while (next < planned.length) {
        const index = next;
        next += 1;
        const item = planned[index] as Planned;
        const tokenId = tokenIds[index % tokenIds.length];
        const declared = await api(ours, `/api/crop-batches/${tokenId}/attachments`, declaration(item));
        if (declared.status !== 201)
          throw new Error(`declaring ${item.id}: ${declared.status} ${JSON.stringify(declared.body)}`);
      }
    }),
  );
  return planned.length / ((performance.now() - started) / 1000);
}

type Standing = { stored: number; ready: number; rejected: number };

async function standing(sql: pg.Pool, ids: string[]): Promise<Standing> {
  const { rows } = await sql.query<{ stored: string; ready: string; rejected: string }>(
    `SELECT count(*) FILTER (WHERE status IN ('received', 'ready')) AS stored,
            count(*) FILTER (WHERE status = 'ready') AS ready,
            count(*) FILTER (WHERE status = 'rejected') AS rejected
       FROM attachments WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return { stored: Number(rows[0]?.stored), ready: Number(rows[0]?.ready), rejected: Number(rows[0]?.rejected) };
}

async function untilSettled(sql: pg.Pool, ids: string[], timeoutMs: number): Promise<Standing> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await standing(sql, ids);
    if (now.ready + now.rejected >= ids.length || Date.now() > deadline) return now;
    await delay(250);
  }
}

const BUILD_ID = ".next/BUILD_ID";

/** The production build's id, once there is one: another checkout user may be rebuilding it (up to 15 min). */
async function buildId(): Promise<string> {
  const deadline = Date.now() + 15 * 60_000;
  let said = false;
  while (!existsSync(BUILD_ID)) {
    if (Date.now() > deadline) throw new Error("The bench runs the production server: `npm run build` first");
    if (!said) say("waiting for .next/BUILD_ID (a build is under way)");
    said = true;
    await delay(2_000);
  }
  return readFileSync(BUILD_ID, "utf8");
}

/** A fresh server for one run: its own PostgreSQL cluster and DATA_DIR, a farmer with BATCHES batches, warmed up. */
async function startOurs(name: string, files: FileSet): Promise<Ours> {
  await buildId();
  const cluster = pgCluster();
  const started: Partial<Ours> = {};
  // Until it is ready, what has started is stopped on failure, or by cleanUp() when the bench is stopped meanwhile.
  const undo = async () => {
    await started.sql?.end();
    await started.server?.child.stop();
    await cluster.destroy();
  };
  stops.push(undo);
  try {
    const { url, dataDir } = await cluster.start();
    return await prepareOurs(name, files, { cluster, url, dataDir }, started);
  } catch (error) {
    await undo().catch(() => undefined);
    throw error;
  } finally {
    if (stops.includes(undo)) stops.splice(stops.indexOf(undo), 1);
  }
}

async function prepareOurs(
  name: string,
  files: FileSet,
  { cluster, url, dataDir }: { cluster: PgCluster; url: string; dataDir: string },
  started: Partial<Ours>,
): Promise<Ours> {
  const server = await startServerProcess(name, logDir, {
    DATABASE_URL: url,
    SESSION_SECRET: process.env.SESSION_SECRET ?? "",
    LOG_LEVEL: "warn",
    ...profiled(),
  });
  started.server = server;
  const sql = new pg.Pool({ connectionString: url, max: 2 });
  sql.on("error", () => undefined);
  started.sql = sql;
  const { farmId, cookie } = await farmerWithFarm(sql);
  const ours: Ours = { cluster, dataDir, server, sql, cookie, tokenIds: [] };
  for (let batch = 0; batch <= BATCHES; batch += 1) {
    const created = await api(ours, "/api/crop-batches", {
      clientId: randomUUID(),
      cropType: "tomato",
      variety: "Roma",
      quantity: 120.5,
      unit: "KGM",
      harvestDate: new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10),
      farmId,
      qualityScore: 88,
      metadata: { certifications: ["EU Organic"], organic: true, grade: "Class I" },
    });
    if (created.status !== 201) throw new Error(`creating a batch: ${created.status} ${JSON.stringify(created.body)}`);
    ours.tokenIds.push(created.body.tokenId as number);
  }
  const warmBatch = ours.tokenIds.pop() as number;
  // The first uploads of a fresh process load tus, file-type and sharp: a server that has run a while has them.
  if (WARMUP) {
    const warm = plan(files);
    await declareAll(ours, warm, [warmBatch]);
    await drive(server.port, cookie, "creation", warm);
    const settled = await untilSettled(
      sql,
      warm.map((item) => item.id),
      60_000,
    );
    if (settled.ready !== warm.length) throw new Error(`warm-up: ${JSON.stringify(settled)} of ${warm.length}`);
  }
  return ours;
}

async function stopOurs(ours: Ours): Promise<void> {
  await ours.sql.end();
  await ours.server.child.stop();
  await ours.cluster.destroy();
  if (!flags.keep) rmSync(path.join(logDir, ours.server.child.name), { recursive: true, force: true });
}

async function oursRun(run: number, server: "ours" | "naive", files: FileSet, warmFiles: FileSet): Promise<RunResult> {
  const mode: UploadMode = server === "ours" ? "creation" : "post-patch";
  say(`run ${run} (${server}): starting a server on a cluster of its own`);
  const ours = await startOurs(`${server}-${run}`, warmFiles);
  stops.push(() => stopOurs(ours));
  const build = existsSync(BUILD_ID) ? statSync(BUILD_ID).mtimeMs : 0;
  try {
    const planned = plan(files);
    const ids = planned.map((item) => item.id);
    const declaredPerSecond = await declareAll(ours, planned, ours.tokenIds);
    const quiet = await machineQuiet();
    say(
      `run ${run} (${server}): ${planned.length} declared (${number(declaredPerSecond)}/s); uploading${quiet ? "" : " (the machine was not quiet)"}`,
    );
    const pid = ours.server.child.pid;
    // With --cpu-prof, the server's main thread is sampled from the first upload's start to the last answer.
    await toggleProfile(pid);
    const cpuBefore = cpuOf(pid);
    const databaseBefore = clusterCpu(ours.dataDir);
    const driven = await drive(ours.server.port, ours.cookie, mode, planned);
    const cpuAnswered = cpuOf(pid);
    const databaseAnswered = clusterCpu(ours.dataDir);
    await toggleProfile(pid);
    const answered = await standing(ours.sql, ids);
    say(`run ${run} (${server}): all answered; ${answered.ready} of ${ids.length} ready`);
    // The naive peer is there for its latency: its processing is the same as ours.
    const settled = server === "ours" ? await untilSettled(ours.sql, ids, READY_TIMEOUT_MS) : answered;
    const cpuSettled = cpuOf(pid);
    const { rows } = await ours.sql.query<{ last_ready: number | null; distinct_files: string }>(
      `SELECT extract(epoch FROM max(ready_at)) * 1000 AS last_ready, count(DISTINCT sha256) AS distinct_files
         FROM attachments WHERE id = ANY($1::uuid[]) AND status = 'ready'`,
      [ids],
    );
    if (!existsSync(BUILD_ID) || statSync(BUILD_ID).mtimeMs !== build) {
      disturbed.push(`run ${run}: .next was rebuilt while its server ran`);
      say(`run ${run} (${server}): .next was rebuilt during the run`);
    }
    const measured = latency(driven);
    const firstStart = Math.min(...driven.results.map((result) => result.startedAt));
    const lastReady = Number(rows[0]?.last_ready);
    const waited = server === "ours";
    // Processing alone, after the last answer: the server's CPU per file made ready meanwhile.
    const processingMs = (cpuSettled - cpuAnswered) / (settled.ready - answered.ready);
    return {
      run,
      server,
      mode,
      quiet,
      records: answered.stored,
      serverCpuMs: cpuAnswered - cpuBefore,
      databaseCpuMs: databaseAnswered - databaseBefore,
      ...measured,
      declaredPerSecond,
      readyAtLastAnswer: answered.ready,
      ready: settled.ready,
      rejected: settled.rejected,
      allReadyMs: waited && settled.ready === ids.length ? lastReady - firstStart : Number.NaN,
      serverCpuToReadyMs: waited ? cpuSettled - cpuBefore : Number.NaN,
      processingCpuMs: waited ? processingMs : Number.NaN,
      receiveCpuMs: waited ? cpuAnswered - cpuBefore - answered.ready * processingMs : Number.NaN,
      distinctFiles: waited ? Number(rows[0]?.distinct_files) : Number.NaN,
    };
  } finally {
    stops.pop();
    await stopOurs(ours);
  }
}

const perUpload = (ms: number, r: RunResult) => number(ms / r.uploads, 2);

function runTable(results: RunResult[]): string {
  const ours = results.filter((r) => r.server === "ours");
  const med = (pick: (r: RunResult) => number) => median(ours.map(pick));
  const row = (r: RunResult, label = String(r.run)) =>
    `| ${label} | ${r.server} | ${r.mode === "creation" ? "POST with body" : "POST, then PATCH"} | ${number(r.uploads)} | ${number(r.errors)} | ${number(r.records)} | ${number(r.p50)} | ${number(r.p99)} | ${number(r.p999)} | ${number(r.max)} | ${number(r.startSpanMs)} / ${number(r.lateMaxMs)} | ${number(r.peakInFlight)} | ${perUpload(r.serverCpuMs, r)} | ${perUpload(r.receiveCpuMs, r)} | ${perUpload(r.databaseCpuMs, r)} | ${number(r.readyAtLastAnswer)} | ${number(r.allReadyMs / 1000, 1)} | ${perUpload(r.serverCpuToReadyMs, r)} | ${number(r.processingCpuMs)} | ${number(r.distinctFiles)} | ${number(r.declaredPerSecond)} | ${perUpload(r.clientCpuMs, r)} | ${number(r.clientLoopMax)} | ${r.quiet ? "yes" : "**no**"} |`;
  const medianRow: RunResult | undefined = ours.length
    ? {
        ...(ours[0] as RunResult),
        uploads: med((r) => r.uploads),
        errors: med((r) => r.errors),
        records: med((r) => r.records),
        p50: med((r) => r.p50),
        p99: med((r) => r.p99),
        p999: med((r) => r.p999),
        max: med((r) => r.max),
        startSpanMs: med((r) => r.startSpanMs),
        lateMaxMs: med((r) => r.lateMaxMs),
        peakInFlight: med((r) => r.peakInFlight),
        serverCpuMs: med((r) => r.serverCpuMs),
        databaseCpuMs: med((r) => r.databaseCpuMs),
        readyAtLastAnswer: med((r) => r.readyAtLastAnswer),
        allReadyMs: med((r) => r.allReadyMs),
        serverCpuToReadyMs: med((r) => r.serverCpuToReadyMs),
        processingCpuMs: med((r) => r.processingCpuMs),
        receiveCpuMs: med((r) => r.receiveCpuMs),
        distinctFiles: med((r) => r.distinctFiles),
        declaredPerSecond: med((r) => r.declaredPerSecond),
        clientCpuMs: med((r) => r.clientCpuMs),
        clientLoopMax: med((r) => r.clientLoopMax),
        quiet: ours.every((r) => r.quiet),
      }
    : undefined;
  return [
    "| run | server | requests per upload | uploads | errors | stored complete | P50 ms | P99 ms | P99.9 ms | max ms | starts: span / latest ms | peak in flight | server CPU ms/upload (to last answer) | of which receiving (est.) | PostgreSQL CPU ms/upload | ready at last answer | all ready s (from first start) | server CPU ms/upload (to all ready) | processing CPU ms/file | distinct stored files | declarations/s (before) | client CPU ms/upload | client loop max ms | machine quiet |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...results.map((r) => row(r)),
    ...(medianRow && ours.length > 1 ? [row(medianRow, `**median of ${ours.length}**`)] : []),
  ].join("\n");
}

function targetChecks(results: RunResult[]): Check[] {
  const ours = results.filter((r) => r.server === "ours");
  const find = (server: RunResult["server"]) => results.find((r) => r.server === server);
  const ceiling = find("ceiling");
  const limit = find("limit");
  const naive = find("naive");
  const p999 = median(ours.map((r) => r.p999));
  const ready = median(ours.map((r) => r.allReadyMs));
  const worst = (pick: (r: RunResult) => number) => Math.max(...ours.map(pick));
  const list = (pick: (r: RunResult) => number, digits = 0) => ours.map((r) => number(pick(r), digits)).join(", ");
  return [
    {
      target: `the generator outruns the servers: its ceiling's P99.9 at most 2/3 of the limit's, all ${number(UPLOADS)} started within 1 s`,
      measured: `ceiling P99.9 ${number(ceiling?.p999 ?? Number.NaN)} ms vs limit ${number(limit?.p999 ?? Number.NaN)} ms; start span at most ${number(Math.max(...results.map((r) => r.startSpanMs)))} ms`,
      pass:
        !!ceiling &&
        !!limit &&
        ceiling.p999 <= (limit.p999 * 2) / 3 &&
        results.every((r) => r.startSpanMs < 1_000 && r.uploads === UPLOADS),
    },
    {
      target: `P99.9 <= ${TARGET_P999_MS / 1000} s from the tus POST's start to its answer (201 = received), median of ${ours.length}`,
      measured: `${number(p999)} ms (runs: ${list((r) => r.p999)})`,
      pass: p999 <= TARGET_P999_MS,
    },
    {
      target: "0 errors",
      measured: `runs: ${list((r) => r.errors)}${ours.some((r) => r.errors) ? `; ${JSON.stringify(ours.map((r) => r.errorKinds))}` : ""}`,
      pass: ours.every((r) => r.errors === 0),
    },
    {
      target: `${number(UPLOADS)} distinct records (received or ready in the database once answered; as many distinct stored files once ready)`,
      measured: `records ${list((r) => r.records)}; distinct files ${list((r) => r.distinctFiles)}; rejected ${list((r) => r.rejected)}`,
      pass: ours.every((r) => r.records === UPLOADS && r.distinctFiles === UPLOADS),
    },
    {
      target: `all ${number(UPLOADS)} ready within ${TARGET_READY_MS / 1000} s of the first upload's start, median of ${ours.length}`,
      measured: `${number(ready / 1000, 1)} s (runs: ${list((r) => r.allReadyMs / 1000, 1)})`,
      pass: ready <= TARGET_READY_MS && ours.every((r) => r.ready === UPLOADS),
    },
    {
      target: "server CPU per upload (the server process, start of the uploads to the last answer)",
      measured: `${number(median(ours.map((r) => r.serverCpuMs / r.uploads)), 2)} ms (runs: ${list((r) => r.serverCpuMs / r.uploads, 2)}), of which receiving ~${number(median(ours.map((r) => r.receiveCpuMs / r.uploads)), 2)} ms once the files processed meanwhile are taken off; PostgreSQL ${number(median(ours.map((r) => r.databaseCpuMs / r.uploads)), 2)} ms more; the limit ${number((limit?.serverCpuMs ?? Number.NaN) / UPLOADS, 2)} ms; processing ${number(median(ours.map((r) => r.processingCpuMs)))} ms a file`,
      pass: null,
    },
    {
      target: "beside the limit and the naive peer (P99.9, same uploads, same machine)",
      measured: `ours ${number(p999)} ms; limit ${number(limit?.p999 ?? Number.NaN)} ms (${number(p999 / (limit?.p999 ?? Number.NaN), 2)}x); limit + fsync ${number(find("limit + fsync")?.p999 ?? Number.NaN)} ms; naive ${number(naive?.p999 ?? Number.NaN)} ms (ours/naive ${number(p999 / (naive?.p999 ?? Number.NaN), 2)}x); worst of ours ${number(worst((r) => r.p999))} ms`,
      pass: null,
    },
    {
      target: "trust: the client processes' event loops stayed under 100 ms",
      measured: `max ${number(Math.max(...results.map((r) => r.clientLoopMax)))} ms`,
      pass: results.every((r) => r.clientLoopMax < 100),
    },
  ];
}

function describeFiles(files: FileSet): string {
  const stats = (list: UploadFile[]) => {
    const sizes = list.map((file) => file.size / 1024);
    return `${number(list.length)} x ${number(sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length))} KB (${number(Math.min(...sizes))}-${number(Math.max(...sizes))})`;
  };
  const total = [...files.photos, ...files.certificates].reduce((sum, file) => sum + file.size, 0);
  return `${stats(files.photos)} JPEG photos (1600 x 1200, as downscaled on the phone) and ${stats(files.certificates)} PDF certificates (a scanned page and a page of text), ${number(total / 2 ** 20, 1)} MiB in all, every file's bytes its own`;
}

async function main(): Promise<void> {
  await buildId();
  const folder = flags.files ?? path.join(logDir, "files");
  say(`generating the files in ${folder} (kept for later runs with --files)`);
  const all = await uploadFiles(folder, PHOTOS + WARM_PHOTOS, CERTIFICATES + WARM_CERTIFICATES);
  const files: FileSet = { photos: all.photos.slice(0, PHOTOS), certificates: all.certificates.slice(0, CERTIFICATES) };
  const warmFiles: FileSet = { photos: all.photos.slice(PHOTOS), certificates: all.certificates.slice(CERTIFICATES) };
  say(describeFiles(files));

  const results: RunResult[] = [];
  const next = () => results.length + 1;
  const peers = !flags["ours-only"];
  if (peers) {
    for (const server of ["ceiling", "limit", "limit + fsync"] as const) {
      results.push(await bareRun(next(), server, files));
    }
  }
  for (let index = 0; index < RUNS; index += 1) results.push(await oursRun(next(), "ours", files, warmFiles));
  if (peers) results.push(await oursRun(next(), "naive", files, warmFiles));

  const setup = [
    `${describeFiles(files)}.`,
    `${CLIENTS} forked client processes (bench/upload-client.ts, node:http with a keep-alive agent${clientsNiced ? `, at nice ${CLIENT_NICE} so that a saturated server does not hold up the generator` : "; they could not be given a higher priority than the servers"}), each upload started at its own moment, spread evenly over ${SPREAD_MS} ms in a random order of kinds; timed from the start of its first request to its last answer.`,
    `Ours: the production server (server.ts, ROLE=all, LOG_LEVEL=warn, rate limits lifted as deploy/local/server-process.ts does) on a PostgreSQL 15 cluster of its own (fsync off) and a fresh DATA_DIR for each run (no stored file from a run before), one farmer with ${BATCHES} batches; ${WARMUP} other files uploaded and processed first; the ${number(UPLOADS)} declarations made before the timed phase (${DECLARE_CONCURRENCY} at a time), then tus creation-with-upload (one POST with the whole body, answered 201 once the bytes are sniffed, fsynced and the attachment is received).`,
    "Ceiling: bench/upload-sink.ts (node:http reading and discarding each body, answering 201 as tus would). Limit: bench/upload-limit-server.ts (bare @tus/server + @tus/file-store on node:http, no sign-in, no database), without and with an fsync of each finished file. Naive peer: the same uploads to our server (fresh, as ours) as tus without creation-with-upload, a POST then a PATCH per file: what a tus client does by default, and what creation-with-upload saves.",
    "CPU from /proc/<pid>/stat (10 ms ticks): the server process (with its sharp threads; ROLE=all, so the worker's processing that starts with the first received file is in it), and the cluster's postmaster and backends. Ready from the database (max ready_at).",
  ].join(" ");
  const section = [
    `## Uploads (${command}), ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`,
    "",
    `- Command: \`${command}\``,
    `- Machine: ${machineLine}`,
    `- Code: ${codeLine}`,
    `- Setup: ${setup}`,
    ...(disturbed.length ? [`- Disturbed: ${disturbed.join("; ")}`] : []),
    ...(flags["cpu-prof"]
      ? [
          "- Profiled (--cpu-prof): the servers' main threads were sampled while the uploads ran; the figures include the profiler's overhead",
        ]
      : []),
    "",
    runTable(results),
    "",
    checks(targetChecks(results)),
  ].join("\n");
  console.log(`\n${section}\n`);
  if (!flags["no-record"]) appendResults(path.join(import.meta.dirname, "RESULTS.md"), section);
  if (flags["cpu-prof"] || flags.keep) say(`logs${flags["cpu-prof"] ? " and profiles" : ""} kept in ${logDir}`);
}

async function cleanUp(): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop().catch((error: unknown) => console.error(error));
}

/** The processes this bench started that are still running (a server still starting, its chain, the clients). */
function ownDescendants(): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    const parent = /^\d+$/.test(entry) ? statFields(entry)?.[1] : undefined;
    if (parent !== undefined) parents.set(Number(entry), parent);
  }
  const found: number[] = [];
  const mine = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (mine.has(parent) && !mine.has(pid)) {
        mine.add(pid);
        found.push(pid);
        grew = true;
      }
    }
  }
  return found;
}

// Stopped from outside: its servers and clusters are stopped too, not left running on a shared machine.
let stopping: Promise<never> | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  // A signal repeated while stopping is ignored: the stop finishes what it started.
  process.on(signal, () => {
    stopping ??= (async () => {
      say(`${signal}: stopping the servers`);
      // Taken first: a server killed while it starts leaves its chain to PID 1.
      const descendants = ownDescendants();
      await cleanUp();
      const signalAll = (name: NodeJS.Signals) => {
        for (const pid of descendants) {
          try {
            process.kill(pid, name);
          } catch {
            // Already gone.
          }
        }
      };
      signalAll("SIGTERM");
      await delay(3_000);
      signalAll("SIGKILL");
      return process.exit(signal === "SIGINT" ? 130 : 143);
    })();
  });
}

let finished = false;
try {
  await main();
  finished = true;
} finally {
  // A run failing because it is being stopped waits for the stop, which exits.
  if (stopping) await stopping;
  await cleanUp();
  // A failed run keeps its servers' logs.
  if (finished && !flags.keep && !flags["cpu-prof"]) rmSync(logDir, { recursive: true, force: true });
}
