import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";

export type Child = {
  name: string;
  pid: number;
  logFile: string;
  exited: boolean;
  /** The exit code once it has exited (null after a signal). */
  exitCode: number | null;
  stop(): Promise<void>;
  /** SIGKILL, no chance to shut down cleanly. */
  kill(): Promise<void>;
};

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return Promise.race([
    new Promise<boolean>((resolve) => child.once("exit", () => resolve(true))),
    delay(ms).then(() => false),
  ]);
}

/** Starts a process with its output in logDir/name.log; stop() sends SIGTERM, then SIGKILL after 15 s. */
export function start(
  name: string,
  command: string,
  args: string[],
  options: { env?: Record<string, string>; logDir: string },
): Child {
  const logFile = path.join(options.logDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(command, args, { env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const handle: Child = {
    name,
    pid: child.pid ?? -1,
    logFile,
    exited: false,
    exitCode: null,
    async stop() {
      if (handle.exited) return;
      child.kill("SIGTERM");
      if (!(await waitExit(child, 15_000))) await handle.kill();
    },
    async kill() {
      if (handle.exited) return;
      child.kill("SIGKILL");
      await waitExit(child, 5_000);
    },
  };
  child.once("exit", (code) => {
    handle.exitCode = code;
    handle.exited = true;
  });
  return handle;
}

/** Polls until the URL answers with `ok(status)`; fails early when the process has died. */
export async function waitReady(
  child: Child,
  url: string,
  timeoutMs: number,
  ok: (status: number) => boolean = (status) => status < 500,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exited) throw new Error(`${child.name} exited before it was ready; see ${child.logFile}`);
    const status = await fetch(url, { signal: AbortSignal.timeout(5_000) }).then(
      (response) => response.arrayBuffer().then(() => response.status),
      () => 0,
    );
    if (status && ok(status)) return;
    await delay(250);
  }
  throw new Error(`${child.name} was not ready at ${url} within ${timeoutMs / 1000} s; see ${child.logFile}`);
}

// Generated code, and the service worker `npm run build` writes into public/ after BUILD_ID.
const NOT_SOURCES = new Set(["node_modules", ".next", "generated", "sw.js", "sw.js.map"]);

/** The newest file's mtime (directories' own mtimes change when the build writes into them). */
function newest(target: string): number {
  if (!existsSync(target)) return 0;
  const stats = statSync(target);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return readdirSync(target)
    .filter((name) => !NOT_SOURCES.has(name))
    .reduce((latest, name) => Math.max(latest, newest(path.join(target, name))), 0);
}

/** Runs the build when a source is newer than the build's BUILD_ID. */
export function buildIfStale(label: string, buildId: string, sources: string[], command: string, args: string[]) {
  const built = newest(buildId);
  if (built && !sources.some((source) => newest(source) > built)) return;
  console.log(`building ${label} (${built ? "sources changed" : "no build yet"}) ...`);
  const result = spawnSync(command, args, { stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  if (result.status !== 0) throw new Error(`building ${label} failed (exit ${result.status})`);
}

/** Busy and total jiffies of the whole machine, from the first line of /proc/stat. */
function cpuTimes(): { busy: number; total: number } {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  // idle and iowait
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * Waits until the machine is idle (under `share` of its CPU busy over half a second), at most `timeoutMs`; false when
 * it never went quiet. Work a run leaves behind (cache refreshes, autovacuum, the database's writes) is then not
 * charged to the next one.
 */
export async function machineQuiet(share = 0.1, timeoutMs = 30_000): Promise<boolean> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const before = cpuTimes();
    await delay(500);
    const after = cpuTimes();
    if ((after.busy - before.busy) / Math.max(1, after.total - before.total) < share) return true;
  }
  return false;
}
