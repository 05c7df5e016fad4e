import { execFile } from "node:child_process";
import { appendFile, chown, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";
import { freePort } from "@/scripts/free-port.mjs";

const run = promisify(execFile);
const BIN = "/usr/lib/postgresql/15/bin";
const asRoot = process.getuid?.() === 0;

export type PgClusterInfo = { url: string; port: number; dataDir: string };

export type PgCluster = {
  /** initdb on the first call, then starts the server (on the same port every time) and waits until it accepts connections. */
  start(): Promise<PgClusterInfo>;
  /** pg_ctl stop: 'fast' rolls back open transactions and closes connections; 'immediate' exits without a checkpoint. */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** SIGKILL to the postmaster and every backend, as a crash would; the next start() runs crash recovery. */
  kill9(): Promise<void>;
  /** stop('fast') if running, then start(). */
  restart(): Promise<PgClusterInfo>;
  /** Stops the server (immediate) and removes its folder. */
  destroy(): Promise<void>;
};

/** initdb refuses to run as root: as root, PostgreSQL's tools run as the `postgres` OS user. */
function tool(name: string, args: string[]) {
  const binary = path.join(BIN, name);
  return asRoot ? run("runuser", ["-u", "postgres", "--", binary, ...args]) : run(binary, args);
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const line = (await readFile("/etc/passwd", "utf8")).split("\n").find((entry) => entry.startsWith("postgres:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (!uid || !gid) throw new Error("no postgres OS user to run a test cluster as");
  return { uid: Number(uid), gid: Number(gid) };
}

async function children(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // Field 4 (after the parenthesised command name) is the parent pid.
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (parent === pid) found.push(Number(entry));
  }
  return found;
}

/** A zombie (killed, not yet reaped by its parent) counts as gone. */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat !== "" && stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}

export type PgClusterOptions = {
  /** A streaming replica of this running cluster (pg_basebackup -R) instead of a new one. */
  replicaOf?: PgClusterInfo;
  /** The replica's recovery_min_apply_delay, e.g. "1s": a replica that lags behind its primary. */
  applyDelay?: string;
};

/**
 * A PostgreSQL 15 cluster of the caller's own (trust auth, loopback, a temp folder, a free port), so a test may stop,
 * crash and restart its database. Never the machine's own server.
 */
export function pgCluster(options: PgClusterOptions = {}): PgCluster {
  let info: PgClusterInfo | null = null;
  let postmaster: number | null = null;
  // A test that dies without destroy() must not leave its server running on the shared machine.
  const killOnExit = () => {
    if (postmaster !== null) process.kill(postmaster, "SIGQUIT");
  };

  const init = async (): Promise<PgClusterInfo> => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "gl-pg-"));
    if (asRoot) {
      const { uid, gid } = await postgresUser();
      await chown(dataDir, uid, gid);
    }
    const primary = options.replicaOf;
    if (primary) {
      await tool("pg_basebackup", [
        "-D",
        dataDir,
        "-h",
        "127.0.0.1",
        "-p",
        String(primary.port),
        "-U",
        "postgres",
        "-R",
      ]);
    } else {
      await tool("initdb", ["-D", dataDir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
    }
    const port = await freePort();
    await appendFile(
      path.join(dataDir, "postgresql.conf"),
      [
        `port = ${port}`,
        "listen_addresses = '127.0.0.1'",
        "unix_socket_directories = ''",
        "fsync = off",
        "max_connections = 100",
        ...(options.applyDelay ? [`recovery_min_apply_delay = '${options.applyDelay}'`] : []),
        "",
      ].join("\n"),
    );
    return { url: `postgresql://postgres@127.0.0.1:${port}/postgres`, port, dataDir };
  };

  const start = async (): Promise<PgClusterInfo> => {
    info ??= await init();
    const { dataDir } = info;
    await tool("pg_ctl", ["start", "-D", dataDir, "-l", path.join(dataDir, "server.log"), "-w", "-t", "60"]);
    postmaster = Number((await readFile(path.join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0]);
    process.once("exit", killOnExit);
    return info;
  };

  const stop = async (mode: "fast" | "immediate" = "fast") => {
    if (!info || postmaster === null) return;
    await tool("pg_ctl", ["stop", "-D", info.dataDir, "-m", mode, "-w", "-t", "60"]);
    postmaster = null;
    process.off("exit", killOnExit);
  };

  const kill9 = async () => {
    if (postmaster === null) return;
    const pids = [postmaster, ...(await children(postmaster))];
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    // The next postmaster refuses to start while a backend of the old one still holds the shared memory.
    while ((await Promise.all(pids.map(alive))).some(Boolean)) await delay(10);
    // Nothing reaps orphans on some machines (PID 1 is no init): the dead postmaster stays a zombie that still
    // answers kill(pid, 0), so PostgreSQL would take its lock file for a live server.
    if (info) await rm(path.join(info.dataDir, "postmaster.pid"), { force: true });
    postmaster = null;
    process.off("exit", killOnExit);
  };

  return {
    start,
    stop,
    kill9,
    restart: async () => {
      await stop("fast");
      return start();
    },
    destroy: async () => {
      await stop("immediate").catch(kill9);
      if (info) await rm(info.dataDir, { recursive: true, force: true });
      info = null;
    },
  };
}
