import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";

export type StartAnvilOptions = {
  port?: number;
  /** Loaded at start and written when anvil exits on SIGTERM/SIGINT (and every `stateIntervalSeconds`, if set). */
  stateFile?: string;
  stateIntervalSeconds?: number;
  blockTime?: number;
  /** Callers pass process.env.ANVIL_BIN here: lib code never reads the environment itself. */
  anvilBin?: string;
  chainId?: number;
  readyTimeoutMs?: number;
  pollIntervalMs?: number;
};

export type AnvilInstance = {
  rpcUrl: string;
  port: number;
  pid: number;
  /** Settles when the process ends, whether through stop() or not. */
  exited: Promise<void>;
  stop(): Promise<void>;
};

const STDERR_LIMIT = 16 * 1024;

/** anvil refuses to start from a state file it cannot parse, e.g. one cut short by a kill during a dump. */
export class AnvilStateUnreadableError extends Error {
  override name = "AnvilStateUnreadableError";
}

export function resolveAnvilBin(override?: string): string {
  if (override) return override;
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("@foundry-rs/anvil-linux-amd64/package.json")), "bin", "anvil");
}

function probePort(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("could not read the probe port"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

export function findFreePort(): Promise<number> {
  return probePort(0);
}

async function rpcChainId(rpcUrl: string, signal: AbortSignal): Promise<number | null> {
  try {
    const response = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal,
    });
    if (!response.ok) return null;
    const body: unknown = await response.json();
    if (typeof body !== "object" || body === null || !("result" in body) || typeof body.result !== "string")
      return null;
    return Number.parseInt(body.result, 16);
  } catch {
    return null;
  }
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

export async function startAnvil(options: StartAnvilOptions = {}): Promise<AnvilInstance> {
  const chainId = options.chainId ?? 31337;
  // An explicit port is probed too: otherwise another node already on it would answer the readiness poll.
  const port = await probePort(options.port ?? 0).catch((error: Error) => {
    throw new Error(`port ${options.port} is not free for anvil: ${error.message}`);
  });
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const pollIntervalMs = options.pollIntervalMs ?? 50;
  const args = ["--silent", "--host", "127.0.0.1", "--port", String(port), "--chain-id", String(chainId)];
  // By default anvil writes the state of every block that leaves its in-memory window to ~/.foundry/anvil/tmp
  // (about 2 MB a block with the demo data, 7 GB for one replay) and a kill leaves it there. Nothing reads it.
  args.push("--max-persisted-states", "0");
  if (options.stateFile) {
    // anvil silently keeps nothing when the state file's folder does not exist.
    mkdirSync(dirname(options.stateFile), { recursive: true });
    args.push("--state", options.stateFile);
    if (options.stateIntervalSeconds) args.push("--state-interval", String(options.stateIntervalSeconds));
  }
  if (options.blockTime !== undefined) args.push("--block-time", String(options.blockTime));

  const child = spawn(resolveAnvilBin(options.anvilBin), args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += chunk;
  });
  // A worker that dies without running its teardown must not leave anvil running.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    // "close", not "exit": stderr is read to its end by then, so the reason is in the error message.
    child.once("close", (code, signal) => resolve({ code, signal }));
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
  });

  const rpcUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    process.removeListener("exit", killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exit = waitForExit(child);
    child.kill("SIGTERM");
    const escalate = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exit;
    clearTimeout(escalate);
  };

  let settled = false;
  const ready = (async () => {
    const deadline = Date.now() + readyTimeoutMs;
    while (!settled && Date.now() < deadline) {
      const signal = AbortSignal.timeout(Math.max(pollIntervalMs * 4, 250));
      if ((await rpcChainId(rpcUrl, signal)) === chainId) return "ready" as const;
      await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
    }
    return "timeout" as const;
  })();

  const outcome = await Promise.race([ready, exited.then((exit) => ({ exit }))]);
  settled = true;
  if (outcome === "ready") return { rpcUrl, port, pid: child.pid ?? -1, exited: exited.then(() => undefined), stop };
  if (outcome === "timeout") {
    await stop();
    throw new Error(`anvil did not answer eth_chainId on ${rpcUrl} within ${readyTimeoutMs} ms\n${stderr}`);
  }
  process.removeListener("exit", killOnExit);
  const { code, signal, error } = outcome.exit;
  const reason = error ? error.message : `exit code ${code ?? "null"}, signal ${signal ?? "none"}`;
  const message = `anvil exited before it was ready (${reason})\n${stderr}`;
  if (options.stateFile && stderr.includes("'--state <PATH>'")) throw new AnvilStateUnreadableError(message);
  throw new Error(message);
}
