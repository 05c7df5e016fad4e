import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createWalletClient, http } from "viem";
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { cropBatchAbi } from "@/lib/chain/crop-batch-abi";
import {
  createIndexer,
  type Indexer,
  type IndexerOptions,
  ReorgTooDeepError,
  type StepResult,
} from "@/lib/chain/indexer";
import { waitForReceipt } from "@/lib/chain/receipt";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics/metrics";
import {
  type ChainWorld,
  chainStatuses,
  chainTables,
  compareWithContract,
  connect,
  contentHashFor,
  createCropBatches,
  devAccount,
  openTestDatabase,
  startChainWorld,
  type TestDatabase,
  waitForCursor,
} from "@/tests/chain/support/chain-world";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHILD = fileURLToPath(new URL("./support/indexer-child.ts", import.meta.url));

let database: TestDatabase;

beforeAll(async () => {
  database = await openTestDatabase();
});

afterAll(async () => {
  await database?.close();
});

/** One anvil per test (they roll chains back); one database for the file, each test on its own chain id. */
async function world(chainId: number): Promise<ChainWorld> {
  const started = await startChainWorld(chainId);
  onTestFinished(() => started.stop());
  return started;
}

function indexerFor(w: ChainWorld, options: Partial<IndexerOptions> = {}): Indexer {
  return createIndexer({
    db: database.db,
    client: w.client,
    chainId: w.chainId,
    contract: w.contract,
    startBlock: w.deployBlock,
    confirmations: 2,
    ...options,
  });
}

async function catchUp(indexer: Indexer): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (let i = 0; i < 1_000; i++) {
    const result = await indexer.step();
    if (result === null) return results;
    results.push(result);
  }
  throw new Error("the indexer did not catch up in 1000 steps");
}

async function expectConsistent(w: ChainWorld, tokenIds: readonly bigint[]): Promise<void> {
  const { mismatches, compared, atBlock } = await compareWithContract(database.db, w, tokenIds);
  console.log(
    `chain ${w.chainId}: ${compared} tokens compared with batchOf at block ${atBlock}: ${mismatches.length} mismatches`,
  );
  expect(mismatches).toEqual([]);
}

/** The contract's logs straight from the node: what chain_events must hold, once each. */
async function chainLogCount(w: ChainWorld): Promise<number> {
  const logs = await w.client.getLogs({ address: w.contract, fromBlock: w.deployBlock, toBlock: "latest" });
  return logs.length;
}

const eventCount = (chainId: number) => database.db.chainEvent.count({ where: { chainId } });

function percentile(sorted: readonly number[], p: number): number {
  const value = sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
  if (value === undefined) throw new Error("no samples");
  return value;
}

describe("chain indexer", () => {
  it("indexes mints, sales, state changes and recalls, replays idempotently, and moves chain_status to final", async () => {
    const w = await world(31_401);
    const ids = [1001n, 1002n, 1003n, 1004n, 1005n, 1006n, 1007n];
    const neverMinted = 1099n;
    await createCropBatches(database.db, [...ids, neverMinted], w.farmer);

    await w.mintBatch(w.farmer, [1001n, 1002n, 1003n]);
    await w.mint(w.farmer, 1004n);
    await w.mint(w.farmer, 1005n);
    await w.mint(w.farmer, 1006n);
    await w.ship(1001n);
    await w.receive(1001n);
    await w.sell(1001n, w.buyer);
    await w.consume(1001n);
    await w.ship(1002n);
    await w.recall(1003n, "mould found at the packhouse");
    await w.inspect(1004n, true);
    await w.sell(1004n, w.buyer);
    await w.recall(1004n, "customer complaint");
    await w.sell(1005n, w.buyer);

    const changed: bigint[] = [];
    const indexer = indexerFor(w, {
      confirmations: 3,
      batchBlocks: 4,
      onTokensChanged: (t) => void changed.push(...t),
    });
    expect(Object.values(await chainStatuses(database.db, ids))).toEqual(ids.map(() => "pending"));
    const synced = async () => {
      const { values } = await metrics.chainSync.get();
      const find = (name: string, le?: number) =>
        values.find((v) => v.metricName === name && v.labels.le === le)?.value ?? 0;
      return { all: find("gl_chain_sync_seconds_count"), withinFiveMinutes: find("gl_chain_sync_seconds_bucket", 300) };
    };
    const syncedBefore = await synced();

    const steps = await catchUp(indexer);
    expect(steps.length).toBeGreaterThan(1);
    expect(steps.every((s) => !s.reorged && s.to - s.from < 4n)).toBe(true);
    // One observation per event, timed from its block's timestamp (seconds ago, not a unit off); caught up: no lag.
    const events = steps.reduce((sum, s) => sum + s.events, 0);
    const syncedAfter = await synced();
    expect(syncedAfter.all - syncedBefore.all).toBe(events);
    expect(syncedAfter.withinFiveMinutes - syncedBefore.withinFiveMinutes).toBe(events);
    expect((await metrics.chainLag.get()).values[0]?.value).toBe(0);
    const head = await w.client.getBlockNumber();
    const cursor = await database.db.chainCursor.findUnique({ where: { chainId: w.chainId } });
    expect(cursor?.blockNumber).toBe(head);
    expect(cursor?.blockHash).toBe((await w.client.getBlock({ blockNumber: head })).hash);
    expect(new Set(changed)).toEqual(new Set(ids.slice(0, 6)));

    const tokens = await database.db.chainToken.findMany({
      where: { chainId: w.chainId },
      orderBy: { tokenId: "asc" },
    });
    expect(tokens.map((t) => [t.tokenId, t.state, t.ownerAddress])).toEqual([
      [1001n, 4, w.buyer.toLowerCase()],
      [1002n, 1, w.farmer.toLowerCase()],
      [1003n, 5, w.farmer.toLowerCase()],
      [1004n, 5, w.buyer.toLowerCase()],
      [1005n, 3, w.buyer.toLowerCase()],
      [1006n, 0, w.farmer.toLowerCase()],
    ]);
    expect(tokens[0]?.contentHash).toBe(contentHashFor(1001n).slice(2));
    const byName = await database.db.chainEvent.groupBy({
      by: ["eventName"],
      where: { chainId: w.chainId },
      _count: { _all: true },
    });
    expect(Object.fromEntries(byName.map((row) => [row.eventName, row._count._all]))).toEqual({
      RoleGranted: 2,
      BatchMinted: 6,
      Transfer: 9,
      StateChanged: 9,
      BatchRecalled: 2,
      BatchInspected: 1,
    });
    expect(await eventCount(w.chainId)).toBe(await chainLogCount(w));

    // Every mint is already `confirmations` deep: final. A fresh mint is confirmed, then final three blocks on.
    expect(await chainStatuses(database.db, [...ids, neverMinted])).toMatchObject({
      "1001": "final",
      "1006": "final",
      "1007": "pending",
      "1099": "pending",
    });
    await w.mint(w.farmer, 1007n);
    expect((await chainStatuses(database.db, [1007n]))["1007"]).toBe("pending");
    changed.length = 0;
    await catchUp(indexer);
    expect((await chainStatuses(database.db, [1007n]))["1007"]).toBe("confirmed");
    expect(changed).toEqual([1007n]);
    await w.mine(2);
    await catchUp(indexer);
    expect((await chainStatuses(database.db, [1007n]))["1007"]).toBe("confirmed");
    changed.length = 0;
    await w.mine(1);
    await catchUp(indexer);
    expect(await chainStatuses(database.db, [...ids, neverMinted])).toEqual({
      ...Object.fromEntries(ids.map((id) => [id.toString(), "final"])),
      "1099": "pending",
    });
    expect(changed).toEqual([1007n]);

    // Re-running at the head inserts nothing; replaying everything from the start block changes nothing.
    const before = await chainTables(database.db, w.chainId);
    expect(await indexer.step()).toBeNull();
    expect(await eventCount(w.chainId)).toBe(before.events.length);
    await database.db.chainCursor.delete({ where: { chainId: w.chainId } });
    await database.db.chainBlock.deleteMany({ where: { chainId: w.chainId } });
    const replay = await catchUp(indexer);
    expect(replay.reduce((sum, s) => sum + s.events, 0)).toBe(before.events.length);
    const after = await chainTables(database.db, w.chainId);
    expect(after.events).toEqual(before.events);
    expect(after.tokens).toEqual(before.tokens);
    expect(after.cursor).toEqual(before.cursor);
    expect(await eventCount(w.chainId)).toBe(await chainLogCount(w));
    await expectConsistent(w, [...ids, neverMinted]);
  });

  it("moves ownership in the database when the owner's own wallet transfers the token, not for relayed sales", async () => {
    const w = await world(31_407);
    await w.mint(w.farmer, 700n);
    await w.mint(w.farmer, 701n);
    await createCropBatches(database.db, [700n, 701n], w.farmer);
    const relayed = await w.sell(701n, w.buyer);
    await database.db.chainTransaction.create({
      data: {
        chainId: w.chainId,
        fromAddress: devAccount(0).address.toLowerCase(),
        nonce: 1_000,
        hash: relayed.transactionHash,
        raw: "0x",
        kind: "sell",
        status: "mined",
      },
    });
    const farmerWallet = createWalletClient({
      account: devAccount(1),
      chain: w.client.chain,
      transport: http(w.anvil.rpcUrl),
    });
    const hash = await farmerWallet.writeContract({
      address: w.contract,
      abi: cropBatchAbi,
      functionName: "transferFrom",
      args: [w.farmer, w.buyer, 700n],
      chain: null,
    });
    await waitForReceipt(w.client, hash);
    await catchUp(indexerFor(w));
    const rows = await database.db.cropBatch.findMany({
      where: { tokenId: { in: [700n, 701n] } },
      orderBy: { tokenId: "asc" },
    });
    expect(rows.map((row) => row.ownerAddress)).toEqual([w.buyer.toLowerCase(), w.farmer.toLowerCase()]);
    await expectConsistent(w, [700n, 701n]);
  });

  it("rolls back a 6-block reorg and replays the new fork", async () => {
    const w = await world(31_402);
    const [a, b, c, d, e, f] = [2001n, 2002n, 2003n, 2004n, 2005n, 2006n];
    const ids = [a, b, c, d, e, f];
    await createCropBatches(database.db, ids, w.farmer);
    const changed: bigint[] = [];
    // Deeper than the reorg, so nothing that is rolled back was ever final.
    const indexer = indexerFor(w, { confirmations: 12, onTokensChanged: (t) => void changed.push(...t) });

    await w.mint(w.farmer, a);
    await w.mint(w.farmer, b);
    await catchUp(indexer);
    const forkBase = await w.client.getBlockNumber();
    const forkBaseHash = (await w.client.getBlock({ blockNumber: forkBase })).hash;

    await w.mint(w.farmer, c);
    await w.mint(w.farmer, d);
    await w.ship(a);
    await w.sell(b, w.buyer);
    await w.mint(w.farmer, e);
    await w.recall(c, "rolled back with its block");
    await catchUp(indexer);
    const oldHead = await w.client.getBlockNumber();
    expect(oldHead).toBe(forkBase + 6n);
    const oldHeadHash = (await w.client.getBlock({ blockNumber: oldHead })).hash;
    await expectConsistent(w, ids);
    expect(await chainStatuses(database.db, ids)).toEqual({
      "2001": "confirmed",
      "2002": "confirmed",
      "2003": "confirmed",
      "2004": "confirmed",
      "2005": "confirmed",
      "2006": "pending",
    });

    await w.rollback(6);
    expect(await w.client.getBlockNumber()).toBe(forkBase);
    // The replacement fork: other transactions at the same heights, and one block longer than the old one.
    await w.mint(w.buyer, d, "b");
    await w.mint(w.farmer, f);
    await w.recall(a, "only on the new fork");
    await w.ship(b);
    await w.mine(3);
    expect(await w.client.getBlockNumber()).toBe(oldHead + 1n);
    expect((await w.client.getBlock({ blockNumber: oldHead })).hash).not.toBe(oldHeadHash);

    changed.length = 0;
    const rollback = await indexer.step();
    expect(rollback).toMatchObject({ reorged: true, from: forkBase + 1n, to: oldHead });
    expect(rollback?.events).toBeGreaterThan(0);
    const cursor = await database.db.chainCursor.findUnique({ where: { chainId: w.chainId } });
    expect([cursor?.blockNumber, cursor?.blockHash]).toEqual([forkBase, forkBaseHash]);
    const rolledBack = await database.db.chainToken.findMany({
      where: { chainId: w.chainId },
      orderBy: { tokenId: "asc" },
    });
    expect(rolledBack.map((t) => [t.tokenId, t.state, t.ownerAddress])).toEqual([
      [a, 0, w.farmer.toLowerCase()],
      [b, 0, w.farmer.toLowerCase()],
    ]);
    expect(await database.db.chainBlock.count({ where: { chainId: w.chainId, number: { gt: forkBase } } })).toBe(0);
    expect(new Set(changed)).toEqual(new Set([a, b, c, d, e]));
    expect(await chainStatuses(database.db, [c, d, e])).toEqual({
      "2003": "pending",
      "2004": "pending",
      "2005": "pending",
    });

    const replay = await catchUp(indexer);
    expect(replay.every((s) => !s.reorged)).toBe(true);
    await expectConsistent(w, ids);
    const tokens = await database.db.chainToken.findMany({
      where: { chainId: w.chainId },
      orderBy: { tokenId: "asc" },
    });
    expect(tokens.map((t) => t.tokenId)).toEqual([a, b, d, f]);
    expect(tokens.find((t) => t.tokenId === d)?.contentHash).toBe(contentHashFor(d, "b").slice(2));
    expect(await chainStatuses(database.db, ids)).toEqual({
      "2001": "confirmed",
      "2002": "confirmed",
      "2003": "pending",
      "2004": "confirmed",
      "2005": "pending",
      "2006": "confirmed",
    });
    expect(await eventCount(w.chainId)).toBe(await chainLogCount(w));
    const eventBlocks = await database.db.chainEvent.findMany({
      where: { chainId: w.chainId },
      distinct: ["blockNumber"],
      select: { blockNumber: true, blockHash: true },
    });
    for (const block of eventBlocks) {
      expect((await w.client.getBlock({ blockNumber: block.blockNumber })).hash).toBe(block.blockHash);
    }

    // A fork that is shorter than what was indexed: the cursor's block no longer exists at all.
    await w.rollback(4);
    const shorter = await indexer.step();
    expect(shorter).toMatchObject({ reorged: true, to: oldHead + 1n });
    expect(await indexer.step()).toBeNull();
    await expectConsistent(w, ids);
    expect(tokens.find((t) => t.tokenId === b)?.state).toBe(1);
    expect(
      (await database.db.chainToken.findUnique({ where: { chainId_tokenId: { chainId: w.chainId, tokenId: b } } }))
        ?.state,
    ).toBe(0);

    // Even the deployment left the chain: the indexer forgets it and every status goes back to pending.
    await w.rollback(Number((await w.client.getBlockNumber()) - w.deployBlock + 1n));
    changed.length = 0;
    expect(await indexer.step()).toMatchObject({ reorged: true, from: w.deployBlock });
    expect(await chainTables(database.db, w.chainId)).toEqual({ cursor: null, blocks: [], events: [], tokens: [] });
    expect(Object.values(await chainStatuses(database.db, ids))).toEqual(ids.map(() => "pending"));
    expect(new Set(changed)).toEqual(new Set([a, b, d, f]));
    expect(await indexer.step()).toBeNull();
  });

  it("refuses a reorg deeper than the block window it keeps, and run() logs it without crashing", async () => {
    const w = await world(31_406);
    const indexer = indexerFor(w, { confirmations: 0 });
    await w.mint(w.farmer, 6001n);
    await w.mine(70);
    await catchUp(indexer);
    expect(await database.db.chainBlock.count({ where: { chainId: w.chainId } })).toBe(64);
    await w.rollback(70);
    await w.mint(w.buyer, 6002n);
    await w.mine(70);
    const before = await chainTables(database.db, w.chainId);
    const failure = indexer.step();
    await expect(failure).rejects.toThrow(ReorgTooDeepError);
    await expect(failure).rejects.toThrow(/a reorg deeper than the 64-block window/);
    expect(await chainTables(database.db, w.chainId)).toEqual(before);

    const logged: string[] = [];
    let secondFailure: () => void = () => undefined;
    const twice = new Promise<void>((resolve) => {
      secondFailure = resolve;
    });
    const spy = vi.spyOn(log, "error").mockImplementation((...args: unknown[]) => {
      const [details] = args;
      if (typeof details === "object" && details !== null && "err" in details && details.err instanceof Error) {
        logged.push(details.err.name);
      }
      if (logged.length === 2) secondFailure();
    });
    onTestFinished(() => spy.mockRestore());
    const controller = new AbortController();
    const loop = indexer.run(controller.signal, 5);
    await twice;
    controller.abort();
    await expect(loop).resolves.toBeUndefined();
    expect(logged).toEqual(["ReorgTooDeepError", "ReorgTooDeepError"]);
  });

  it("a process killed between fetching and committing leaves the database untouched", async () => {
    const w = await world(31_403);
    const ids = [3001n, 3002n, 3003n];
    await w.mint(w.farmer, 3001n);
    await w.mint(w.farmer, 3002n);
    await catchUp(indexerFor(w));
    await w.ship(3001n);
    await w.mint(w.farmer, 3003n);
    await w.sell(3002n, w.buyer);
    const before = await chainTables(database.db, w.chainId);
    expect(before.cursor?.blockNumber).toBeLessThan(await w.client.getBlockNumber());

    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        CHILD,
        database.url,
        w.anvil.rpcUrl,
        w.contract,
        String(w.chainId),
        String(w.deployBlock),
        "2",
      ],
      {
        cwd: ROOT,
        env: { ...process.env, TSX_TSCONFIG_PATH: "tsconfig.server.json" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code, signal) => resolve({ code, signal }));
    });
    expect({ ...exit, stdout, stderr: exit.signal === "SIGKILL" ? "" : stderr }).toEqual({
      code: null,
      signal: "SIGKILL",
      stdout: "before-commit\n",
      stderr: "",
    });
    expect(await chainTables(database.db, w.chainId)).toEqual(before);

    const results = await catchUp(indexerFor(w));
    expect(results[0]?.from).toBe((before.cursor?.blockNumber ?? 0n) + 1n);
    expect((await database.db.chainCursor.findUnique({ where: { chainId: w.chainId } }))?.blockNumber).toBe(
      await w.client.getBlockNumber(),
    );
    expect(await eventCount(w.chainId)).toBe(await chainLogCount(w));
    await expectConsistent(w, ids);
  });

  it("a second indexer on the same database resumes from the cursor, alone or running alongside", async () => {
    const w = await world(31_404);
    const ids = [4001n, 4002n, 4003n, 4004n, 4005n, 4006n];
    for (const id of ids.slice(0, 4)) await w.mint(w.farmer, id);
    await w.ship(4001n);
    await w.sell(4002n, w.buyer);
    await w.recall(4003n, "first run");

    const first = indexerFor(w, { batchBlocks: 3 });
    await first.step();
    await first.step();
    const mid = await database.db.chainCursor.findUnique({ where: { chainId: w.chainId } });
    expect(mid?.blockNumber).toBe(w.deployBlock + 5n);
    expect((await first.lag()).indexed).toBe(mid?.blockNumber);

    const second = indexerFor(w);
    const resumed = await catchUp(second);
    expect(resumed[0]?.from).toBe((mid?.blockNumber ?? 0n) + 1n);
    expect(await first.step()).toBeNull();
    expect(await eventCount(w.chainId)).toBe(await chainLogCount(w));
    expect((await second.lag()).blocks).toBe(0n);
    await expectConsistent(w, ids);

    // Both loops at once: each commit checks the cursor it started from, so the loser retries instead of
    // applying a range twice. On PostgreSQL the second loop has a connection of its own; PGlite gets one.
    const other = process.env.TEST_DATABASE_URL ? connect(database.url) : null;
    onTestFinished(() => other?.close());
    const controller = new AbortController();
    const loops = [
      first.run(controller.signal, 20),
      indexerFor(w, { db: other?.db ?? database.db }).run(controller.signal, 20),
    ];
    await w.mint(w.farmer, 4005n);
    await w.receive(4001n);
    await w.mint(w.farmer, 4006n);
    await w.consume(4002n);
    await w.inspect(4004n, false);
    await waitForCursor(database.db, w.chainId, await w.client.getBlockNumber());
    controller.abort();
    await Promise.all(loops);
    expect(await eventCount(w.chainId)).toBe(await chainLogCount(w));
    await expectConsistent(w, ids);
  });

  it("commits an event within a second of its receipt while run() polls", async () => {
    const w = await world(31_405);
    const waiters = new Map<bigint, (at: number) => void>();
    const controller = new AbortController();
    const indexer = indexerFor(w, {
      onTokensChanged(tokenIds) {
        const at = performance.now();
        for (const id of tokenIds) waiters.get(id)?.(at);
      },
    });
    const loop = indexer.run(controller.signal, 100);
    const fromReceipt: number[] = [];
    const fromSubmit: number[] = [];
    const ids: bigint[] = [];
    for (let i = 0; i < 25; i++) {
      const id = 5001n + BigInt(i);
      ids.push(id);
      for (const send of [() => w.mint(w.farmer, id), () => w.ship(id)]) {
        const committed = new Promise<number>((resolve) => waiters.set(id, resolve));
        const submitted = performance.now();
        const receipt = await send();
        const seen = performance.now();
        const at = await committed;
        const row = await database.db.chainEvent.findFirst({
          where: { chainId: w.chainId, txHash: receipt.transactionHash },
        });
        expect(row).not.toBeNull();
        fromReceipt.push(Math.max(0, at - seen));
        fromSubmit.push(at - submitted);
      }
    }
    controller.abort();
    await loop;
    const receiptSorted = [...fromReceipt].sort((x, y) => x - y);
    const submitSorted = [...fromSubmit].sort((x, y) => x - y);
    const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
    console.log(
      `indexer latency over ${fromReceipt.length} txs (run() every 100 ms): receipt -> commit ` +
        `P50 ${fmt(percentile(receiptSorted, 0.5))}, P99 ${fmt(percentile(receiptSorted, 0.99))}, ` +
        `max ${fmt(receiptSorted.at(-1) ?? 0)}; submit -> commit P50 ${fmt(percentile(submitSorted, 0.5))}, ` +
        `P99 ${fmt(percentile(submitSorted, 0.99))}`,
    );
    expect(percentile(receiptSorted, 0.99)).toBeLessThan(1_000);
    await expectConsistent(w, ids);
  });
});
