import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "pglite-process.ts");

export type EmbeddedPostgres = { port: number; url: string; stop(): Promise<void> };

/** Starts PGlite in a child process; `dataDir` "memory://" keeps nothing on disk. */
export function startEmbeddedPostgres(options: { dataDir: string; port: number }): Promise<EmbeddedPostgres> {
  const child: ChildProcess = fork(CHILD, [options.dataDir, String(options.port), "8"], {
    execArgv: ["--import", "tsx"],
    // Its own process group: Ctrl-C reaches the server, which closes its connections before stopping the engine.
    detached: true,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`The embedded database exited (code ${code}) before it was ready.`));
    child.once("exit", onExit);
    child.once("error", reject);
    child.on("message", (message: { type?: string; port?: number; message?: string }) => {
      if (message.type === "failed") {
        child.off("exit", onExit);
        reject(new Error(message.message));
        return;
      }
      if (message.type !== "ready" || !message.port) return;
      child.off("exit", onExit);
      const port = message.port;
      resolve({
        port,
        url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    });
  });
}
