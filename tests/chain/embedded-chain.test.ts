import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { type ChainRuntime, startChain } from "@/lib/chain/start-chain";
import { freePort } from "@/scripts/free-port.mjs";
import {
  chainSettled,
  compareWithContract,
  contentHashFor,
  createCropBatches,
  devAccount,
  embeddedChainConfig,
  openTestDatabase,
} from "@/tests/chain/support/chain-world";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHILD = fileURLToPath(new URL("./support/chain-child.ts", import.meta.url));
const farmer = devAccount(1).address;
const buyer = devAccount(4).address;

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The pid of the anvil listening on `port`, read from /proc as an operator would find it. */
function anvilPid(port: number): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (args[0]?.endsWith("/anvil") && args[args.indexOf("--port") + 1] === String(port)) return Number(entry);
    } catch {
      // The process ended while the list was read.
    }
  }
  return undefined;
}

function stateOf(file: string): { size: number; mtimeMs: number } | null {
  try {
    const { size, mtimeMs } = statSync(file);
    return { size, mtimeMs };
  } catch {
    return null;
  }
}

/** A database, a data folder and a port of the test's own, as `npm start` would use them. */
async function world() {
  const database = await openTestDatabase();
  onTestFinished(() => database.close());
  const { db } = database;
  const dataDir = mkdtempSync(path.join(tmpdir(), "gl-chain-"));
  onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  let nextTokenId = 1n;

  async function start(): Promise<ChainRuntime> {
    const chain = await startChain({
      db,
      config: embeddedChainConfig(port),
      dataDir,
      embeddedPort: port,
      blockSeconds: 0,
      dumpSeconds: 0,
      onTokensChanged: async () => {},
    });
    onTestFinished(() => chain.stop());
    return chain;
  }

  /** New batches minted to the farmer; the first is then shipped, the second sold, the third recalled. */
  async function queueBatches(count: number): Promise<bigint[]> {
    const ids = Array.from({ length: count }, () => nextTokenId++);
    await createCropBatches(db, ids, farmer);
    await db.chainJob.createMany({
      data: ids.map((tokenId) => ({
        tokenId,
        kind: "mint",
        args: { owner: farmer, contentHash: contentHashFor(tokenId).slice(2) },
      })),
    });
    const [shipped, sold, recalled] = ids as [bigint, bigint, bigint];
    await db.chainJob.createMany({
      data: [
        { tokenId: shipped, kind: "ship", args: {} },
        { tokenId: sold, kind: "sell", args: { buyer } },
        { tokenId: recalled, kind: "recall", args: { reason: "Listeria found" } },
      ],
    });
    return ids;
  }

  const settled = (chain: ChainRuntime) =>
    until(async () => ((await chainSettled(db, chain.client, chain.chainId)) ? true : undefined), "the chain settled");

  const indexedTokens = () =>
    db.chainToken.findMany({
      orderBy: { tokenId: "asc" },
      select: { tokenId: true, ownerAddress: true, state: true, contentHash: true },
    });

  /** The indexer's projection, checked against the contract, and each batch's chain status. */
  async function tokens(chain: ChainRuntime) {
    const ids = (await db.cropBatch.findMany({ select: { tokenId: true } })).map((row) => row.tokenId);
    const { mismatches, compared } = await compareWithContract(db, chain, ids);
    expect(mismatches).toEqual([]);
    expect(compared).toBe(ids.length);
    const statuses = await db.cropBatch.groupBy({ by: ["chainStatus"], _count: true });
    return { rows: await indexedTokens(), statuses };
  }

  /** A started chain that has put `count` new batches on chain, and its tokens then. */
  async function startWith(count: number) {
    const chain = await start();
    await queueBatches(count);
    await settled(chain);
    return { chain, before: await tokens(chain) };
  }

  return {
    database,
    dataDir,
    port,
    stateFile: path.join(dataDir, "anvil", "state.json"),
    start,
    startWith,
    queueBatches,
    settled,
    indexedTokens,
    tokens,
  };
}

// Each test starts a database and settles the chain several times; on a busy machine that takes a while.
describe("the embedded chain", { timeout: 180_000 }, () => {
  it("writes its state when it stops, not while it idles, and starts again from that dump", async () => {
    const w = await world();
    let { chain, before } = await w.startWith(4);
    expect(before.rows).toHaveLength(4);

    const idle = stateOf(w.stateFile);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(stateOf(w.stateFile)).toEqual(idle);

    await chain.stop();
    expect(stateOf(w.stateFile)?.size).toBeGreaterThan(0);
    chain = await w.start();
    // Loaded, not replayed: the projection is kept as it was, not rebuilt.
    expect(await w.indexedTokens()).toEqual(before.rows);
    await w.settled(chain);
    expect(await w.tokens(chain)).toEqual(before);

    await chain.stop();
    // A dump cut short, as a kill during the write leaves it: set aside, and the relayer replays everything.
    truncateSync(w.stateFile, 1_000);
    chain = await w.start();
    await w.settled(chain);
    expect(await w.tokens(chain)).toEqual(before);
    expect(stateOf(`${w.stateFile}.unreadable`)?.size).toBe(1_000);
  });

  it("is started again after a kill -9 of anvil alone, and every token comes back", async () => {
    const w = await world();
    const { chain, before } = await w.startWith(5);

    const killed = anvilPid(w.port);
    expect(killed).toBeDefined();
    process.kill(killed as number, "SIGKILL");
    await until(async () => {
      const pid = anvilPid(w.port);
      return pid !== undefined && pid !== killed ? pid : undefined;
    }, "anvil runs again");
    await w.settled(chain);
    expect(await w.tokens(chain)).toEqual(before);
  });

  it("after a kill -9 of the whole server replays onto the older dump the next start loads", async () => {
    const w = await world();
    await (await w.startWith(3)).chain.stop();
    const dumped = stateOf(w.stateFile);
    await w.queueBatches(3);

    // The server's chain (anvil, relayer, indexer) in a process group of its own, killed as a whole.
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, w.database.url, w.dataDir, String(w.port)], {
      cwd: ROOT,
      detached: true,
      env: { ...process.env, TSX_TSCONFIG_PATH: "tsconfig.server.json" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid as number), "SIGKILL");
    });
    let output = "";
    child.stdout.setEncoding("utf8");
    const said = (line: string) =>
      Promise.race([
        new Promise<void>((resolve) => {
          const onData = (chunk: string) => {
            output += chunk;
            if (!output.includes(`${line}\n`)) return;
            child.stdout.off("data", onData);
            resolve();
          };
          child.stdout.on("data", onData);
        }),
        exited.then(() => Promise.reject(new Error(`the chain child exited before it said ${line}`))),
      ]);
    // The test stays off the database until the kill: PGlite serves one client at a time.
    await said("settled");
    process.kill(-(child.pid as number), "SIGKILL");
    await exited;
    await until(async () => (anvilPid(w.port) === undefined ? true : undefined), "the killed anvil is gone");
    expect(stateOf(w.stateFile)).toEqual(dumped);

    const indexed = await w.indexedTokens();
    expect(indexed).toHaveLength(6);
    const chain = await w.start();
    await w.settled(chain);
    expect((await w.tokens(chain)).rows).toEqual(indexed);
  });
});
