// Child process: one PGlite engine served over the Postgres wire protocol on loopback.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { cube } from "@electric-sql/pglite/contrib/cube";
import { earthdistance } from "@electric-sql/pglite/contrib/earthdistance";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

const [dataDir = "", portArg = "0", maxConnectionsArg = "16"] = process.argv.slice(2);
const memory = dataDir === "memory://";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// PGlite does not lock its directory; two engines on one directory corrupt it.
function takeLock(lockFile: string): void {
  for (;;) {
    try {
      const fd = openSync(lockFile, "wx");
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(readFileSync(lockFile, "utf8"));
      if (owner && isAlive(owner)) {
        throw new Error(`The embedded database in ${dataDir} is in use by process ${owner}.`);
      }
      rmSync(lockFile, { force: true });
    }
  }
}

const lockFile = memory ? "" : path.join(dataDir, "pglite.lock");
if (!memory) {
  mkdirSync(dataDir, { recursive: true });
  try {
    takeLock(lockFile);
  } catch (error) {
    process.send?.({ type: "failed", message: (error as Error).message });
    process.exit(1);
  }
}

const db = await PGlite.create(memory ? "memory://" : path.join(dataDir, "pgdata"), {
  extensions: { cube, earthdistance, pg_trgm },
});
const server = new PGLiteSocketServer({
  db,
  host: "127.0.0.1",
  port: Number(portArg),
  maxConnections: Number(maxConnectionsArg),
});
await server.start();

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await server.stop().catch(() => undefined);
  await db.close().catch(() => undefined);
  if (lockFile) rmSync(lockFile, { force: true });
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.on("disconnect", stop);

process.send?.({ type: "ready", port: Number(server.getServerConn().split(":").pop()) });
