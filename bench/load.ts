import { spawn, spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";

export type Request = { method: "GET" | "POST"; path: string; body?: string; headers?: Record<string, string> };

export type LoadOptions = {
  base: string;
  next: () => Request;
  seconds: number;
  connections: number;
  /** Constant arrival rate (requests per second over all connections); unset: as fast as the server answers. */
  rate?: number;
  /** Requests generated ahead; wrk cycles through them. Enough that a run never repeats one when that matters. */
  requests: number;
  /** Where the file of generated requests goes. */
  workDir: string;
};

export type Measured = {
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  requests: number;
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
  statuses: Record<string, number>;
  /** Paced runs: sends that left after their slot, and the P99.9 of every send's lateness (ms). */
  late?: { sends: number; p999: number };
};

const WRK = "/usr/bin/wrk";
const SCRIPT = path.resolve("bench/wrk.lua");

/** Debian's wrk, installed with apt-get when it is missing and this is root; otherwise a clear refusal. */
export function ensureWrk(): string {
  if (existsSync(WRK)) return WRK;
  if (process.getuid?.() !== 0) {
    throw new Error(`the bench drives its load with wrk, which is missing: install it (sudo apt-get install wrk)`);
  }
  console.log("installing wrk (apt-get install wrk) ...");
  let result = spawnSync("apt-get", ["install", "-y", "wrk"], { stdio: "inherit" });
  if (result.status !== 0) {
    spawnSync("apt-get", ["update"], { stdio: "inherit" });
    result = spawnSync("apt-get", ["install", "-y", "wrk"], { stdio: "inherit" });
  }
  if (result.status !== 0 || !existsSync(WRK)) throw new Error("apt-get could not install wrk; install it and retry");
  return WRK;
}

type WrkResult = {
  requests: number;
  durationUs: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  errors: { connect: number; read: number; write: number; timeout: number };
  statuses: Record<string, number>;
  lateSends: number;
  lateP999Us: number;
};

/** `count` requests from `next`, dealt round-robin into one file per wrk thread: `${prefix}-${thread}.tsv`. */
function writeRequests(prefix: string, next: () => Request, count: number, threads: number): void {
  const lines: string[][] = Array.from({ length: threads }, () => []);
  for (let index = 0; index < count; index += 1) {
    const request = next();
    const headers = Object.entries(request.headers ?? {}).map(([name, value]) => `\t${name}: ${value}`);
    lines[index % threads]?.push(`${request.method}\t${request.path}\t${request.body ?? ""}${headers.join("")}`);
  }
  for (const [thread, part] of lines.entries()) writeFileSync(`${prefix}-${thread}.tsv`, `${part.join("\n")}\n`);
}

function runWrk(args: string[], env: Record<string, string>): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(ensureWrk(), args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const line = output.split("\n").find((text) => text.startsWith("BENCH_RESULT "));
      if (code !== 0 || !line) reject(new Error(`wrk ${args.join(" ")} failed (exit ${code}):\n${output}`));
      else resolve(JSON.parse(line.slice("BENCH_RESULT ".length)) as WrkResult);
    });
  });
}

let runs = 0;

/**
 * One wrk run; each request takes its own path and body from `next`, on one wrk thread with all connections (a
 * thread per connection would take CPU from the server on this 2-core machine). At a constant rate the connections
 * share one fixed schedule and latencies count from the scheduled moment (bench/wrk.lua). Latencies in ms.
 */
export async function measure(options: LoadOptions): Promise<Measured> {
  runs += 1;
  const prefix = path.join(options.workDir, `requests-${runs}`);
  const threads = 1;
  writeRequests(prefix, options.next, options.requests, threads);
  const result = await runWrk(
    [
      `-t${threads}`,
      `-c${options.connections}`,
      `-d${options.seconds}s`,
      "--timeout",
      "10s",
      "--latency",
      "-s",
      SCRIPT,
      options.base,
    ],
    { BENCH_REQUESTS: prefix, BENCH_THREADS: String(threads), BENCH_RATE: String(options.rate ?? 0) },
  );
  const non2xx = Object.entries(result.statuses)
    .filter(([status]) => !status.startsWith("2"))
    .reduce((sum, [, count]) => sum + count, 0);
  const { connect, read, write, timeout } = result.errors;
  return {
    rps: result.requests / (result.durationUs / 1e6),
    p50: result.p50Us / 1000,
    p99: result.p99Us / 1000,
    p999: result.p999Us / 1000,
    requests: result.requests,
    errors: connect + read + write + timeout,
    non2xx,
    statuses: result.statuses,
    ...(options.rate ? { late: { sends: result.lateSends, p999: result.lateP999Us / 1000 } } : {}),
  };
}
