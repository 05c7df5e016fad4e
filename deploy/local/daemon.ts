import { type ChildProcess, spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";

/** True once something accepts connections on loopback `port`. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** True once `url` answers 200. */
async function answersOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

async function waitFor(check: () => Promise<boolean>, died: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (died()) throw new Error("it exited");
    if (Date.now() > deadline) throw new Error(`${what} after ${ms} ms`);
    await delay(50);
  }
}

/** Waits until `port` accepts connections; fails at once when `died()` says the server is gone, or after `ms`. */
export function waitForPort(port: number, died: () => boolean, ms: number): Promise<void> {
  return waitFor(() => accepts(port), died, ms, `nothing listens on ${port}`);
}

/** Waits until `url` answers 200; fails at once when `died()` says the server is gone, or after `ms`. */
function waitForHttp(url: string, died: () => boolean, ms: number): Promise<void> {
  return waitFor(() => answersOk(url), died, ms, `${url} does not answer 200`);
}

/** A server in the foreground whose files live in a temp folder of its own. */
export type Daemon = { url: string; port: number; stop(): Promise<void> };

/**
 * Runs `command` until stop() (SIGTERM, then the folder `dir` is removed); resolves once it listens on loopback
 * `port` (or, given `readyPath`, once that path answers 200 there), and fails with what it printed if it exits first
 * or is not ready within `timeoutMs`.
 */
export async function startDaemon(
  command: string,
  args: string[],
  port: number,
  dir: string,
  timeoutMs: number,
  readyPath?: string,
): Promise<Daemon> {
  const child: ChildProcess = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const died = () => child.exitCode !== null;
  const ready = readyPath
    ? waitForHttp(`http://127.0.0.1:${port}${readyPath}`, died, timeoutMs)
    : waitForPort(port, died, timeoutMs);
  await ready.catch(async (error: Error) => {
    await stop();
    throw new Error(`${path.basename(command)} did not start (${error.message}): ${output}`);
  });
  return { url: `http://127.0.0.1:${port}`, port, stop };
}
