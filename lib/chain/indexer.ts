import { setTimeout as delay } from "node:timers/promises";
import { type Address, BlockNotFoundError, decodeEventLog, type Hash, type Log, type PublicClient } from "viem";
import type { Prisma, PrismaClient } from "@/lib/generated/prisma/client";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics/metrics";
import { inLoopSpan } from "@/lib/observability/tracing/spans";
import { cropBatchAbi } from "./crop-batch-abi";
import { type ProjectionEvent, projectToken } from "./token-projection";

export type IndexerOptions = {
  db: PrismaClient;
  /** Created by the caller with `cacheTime: 0`, so every head and block read is fresh. */
  client: PublicClient;
  chainId: number;
  contract: Address;
  startBlock: bigint;
  /** Finality depth: a block is final once `head - confirmations` has reached it. */
  confirmations: number;
  /** Most blocks one step indexes (default 500). */
  batchBlocks?: number;
  /** Called after each commit with every token whose row or chain status it changed. */
  onTokensChanged?: (tokenIds: bigint[]) => Promise<void> | void;
  hooks?: { beforeCommit?: () => Promise<void> | void };
};

export type StepResult = {
  /** First and last block indexed or, with `reorged`, the range that was rolled back. */
  from: bigint;
  to: bigint;
  /** Events indexed or, with `reorged`, events deleted. */
  events: number;
  reorged: boolean;
};

export type IndexerLag = { head: bigint; indexed: bigint; blocks: bigint };

export type Indexer = {
  /** One unit of work: a rollback, or one range of new blocks. Null when already at the head. */
  step(): Promise<StepResult | null>;
  /** Steps until `signal` aborts; never throws. */
  run(signal: AbortSignal, intervalMs?: number): Promise<void>;
  lag(): Promise<IndexerLag>;
};

/** The chain (or another indexer) changed while a step was reading it; the next step starts over. */
export class ChainMovedError extends Error {
  override name = "ChainMovedError";
}

/** The chain replaced more blocks than chain_blocks keeps: the indexer cannot find where to resume. */
export class ReorgTooDeepError extends Error {
  override name = "ReorgTooDeepError";
}

type Cursor = { number: bigint; hash: string | null };
type Header = { number: bigint; hash: Hash; parentHash: Hash; timestamp: bigint };
type EventRow = Prisma.ChainEventCreateManyInput;
type JsonArg = string | number | boolean;

/** Blocks kept beyond the finality depth, so a reorg a little deeper than expected is still recoverable. */
const WINDOW_MARGIN = 64;
const HEADER_CONCURRENCY = 16;
const MAX_BACKOFF_MS = 30_000;
// Polls slow down to this while no block comes (an idle embedded chain makes none).
const IDLE_INTERVAL_MS = 1_000;
const TRANSACTION_OPTIONS = { maxWait: 30_000, timeout: 120_000 };
/** pg_advisory_xact_lock(class, chainId): one committing indexer per chain per database. */
const LOCK_CLASS = 0x67_6c_69_78; // "glix"
const MAX_INT8 = 2n ** 63n - 1n;

const minBig = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const maxBig = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const reportLag = (head: bigint, indexed: bigint): void => metrics.chainLag.set(Number(maxBig(0n, head - indexed)));

function toJsonArgs(args: Record<string, unknown>): Record<string, JsonArg> {
  const out: Record<string, JsonArg> = {};
  for (const [key, value] of Object.entries(args)) {
    if (typeof value === "bigint") out[key] = value.toString();
    else if (typeof value === "string") out[key] = /^0x[0-9a-fA-F]{40}$/.test(value) ? value.toLowerCase() : value;
    else if (typeof value === "number" || typeof value === "boolean") out[key] = value;
    else out[key] = String(value);
  }
  return out;
}

export function createIndexer(options: IndexerOptions): Indexer {
  const { db, client, chainId, contract, startBlock, confirmations, onTokensChanged, hooks } = options;
  const batchBlocks = BigInt(Math.max(1, options.batchBlocks ?? 500));
  const keep = BigInt(confirmations + WINDOW_MARGIN);

  const cursorOf = (row: { blockNumber: bigint; blockHash: string } | null): Cursor =>
    row ? { number: row.blockNumber, hash: row.blockHash } : { number: startBlock - 1n, hash: null };

  async function readCursor(): Promise<Cursor> {
    return cursorOf(await db.chainCursor.findUnique({ where: { chainId } }));
  }

  async function header(blockNumber: bigint): Promise<Header> {
    try {
      const block = await client.getBlock({ blockNumber });
      if (block.hash === null) throw new ChainMovedError(`block ${blockNumber} has no hash yet`);
      return { number: blockNumber, hash: block.hash, parentHash: block.parentHash, timestamp: block.timestamp };
    } catch (error) {
      if (error instanceof BlockNotFoundError) throw new ChainMovedError(`block ${blockNumber} is gone`);
      throw error;
    }
  }

  async function headers(numbers: readonly bigint[]): Promise<Header[]> {
    const out: Header[] = [];
    for (let i = 0; i < numbers.length; i += HEADER_CONCURRENCY) {
      out.push(...(await Promise.all(numbers.slice(i, i + HEADER_CONCURRENCY).map(header))));
    }
    return out;
  }

  /** Serialises commits and proves that nobody committed since this step read the cursor. */
  async function lockCursor(tx: Prisma.TransactionClient, expected: Cursor): Promise<void> {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCK_CLASS}::int, ${chainId}::int)`;
    const current = cursorOf(await tx.chainCursor.findUnique({ where: { chainId } }));
    if (current.number !== expected.number || current.hash !== expected.hash) {
      throw new ChainMovedError(`another indexer moved the chain ${chainId} cursor to block ${current.number}`);
    }
  }

  /**
   * Recomputes chain_tokens rows from every stored event of these tokens. Folding the whole history (a few
   * events per batch) instead of patching the row is what makes replays and rollbacks unable to drift.
   */
  async function rebuildTokens(tx: Prisma.TransactionClient, tokenIds: readonly bigint[]): Promise<bigint[]> {
    if (tokenIds.length === 0) return [];
    const rows = await tx.chainEvent.findMany({
      where: { chainId, tokenId: { in: [...tokenIds] } },
      orderBy: [{ blockNumber: "asc" }, { logIndex: "asc" }],
      select: { tokenId: true, eventName: true, args: true, txHash: true, blockNumber: true, logIndex: true },
    });
    const byToken = new Map<bigint, ProjectionEvent[]>();
    for (const row of rows) {
      if (row.tokenId === null) continue;
      const list = byToken.get(row.tokenId) ?? [];
      list.push(row);
      byToken.set(row.tokenId, list);
    }
    const removed: bigint[] = [];
    const data: Prisma.ChainTokenCreateManyInput[] = [];
    for (const tokenId of tokenIds) {
      const token = projectToken(tokenId, byToken.get(tokenId) ?? []);
      if (token) data.push({ chainId, ...token });
      else removed.push(tokenId);
    }
    await tx.chainToken.deleteMany({ where: { chainId, tokenId: { in: [...tokenIds] } } });
    if (data.length > 0) await tx.chainToken.createMany({ data });
    return removed;
  }

  /** crop_batches.chain_status from chain_tokens; a join, so rows created after their mint catch up too. */
  async function updateChainStatus(tx: Prisma.TransactionClient, head: bigint): Promise<bigint[]> {
    const finalBlock = head - BigInt(confirmations);
    const confirmed = await tx.$queryRaw<{ token_id: bigint }[]>`
      UPDATE crop_batches AS cb SET chain_status = 'confirmed'::"ChainStatus", updated_at = now()
      FROM chain_tokens AS ct
      WHERE ct.chain_id = ${chainId} AND ct.token_id = cb.token_id
        AND cb.chain_status = 'pending'::"ChainStatus" AND ct.mint_block > ${finalBlock}
      RETURNING cb.token_id`;
    const finalized = await tx.$queryRaw<{ token_id: bigint }[]>`
      UPDATE crop_batches AS cb SET chain_status = 'final'::"ChainStatus", updated_at = now()
      FROM chain_tokens AS ct
      WHERE ct.chain_id = ${chainId} AND ct.token_id = cb.token_id
        AND cb.chain_status <> 'final'::"ChainStatus" AND ct.mint_block <= ${finalBlock}
      RETURNING cb.token_id`;
    return [...confirmed, ...finalized].map((row) => BigInt(row.token_id));
  }

  /**
   * A transfer the relayer did not send (the owner's own wallet moved the token) moves ownership in the database
   * too; the relayer's own sales were recorded there before they were sent.
   */
  async function followExternalTransfers(tx: Prisma.TransactionClient, rows: EventRow[]): Promise<bigint[]> {
    const transfers = rows.filter((row) => row.eventName === "Transfer" && typeof row.tokenId === "bigint");
    if (transfers.length === 0) return [];
    const ours = await tx.chainTransaction.findMany({
      where: { chainId, hash: { in: transfers.map((row) => row.txHash) } },
      select: { hash: true },
    });
    const relayed = new Set(ours.map((row) => row.hash.toLowerCase()));
    const moved: bigint[] = [];
    for (const row of transfers) {
      const { from, to } = row.args as { from?: string; to?: string };
      if (relayed.has(row.txHash.toLowerCase()) || !from || !to || /^0x0{40}$/i.test(from)) continue;
      const tokenId = row.tokenId as bigint;
      await tx.cropBatch.updateMany({
        where: { tokenId },
        data: { ownerAddress: to.toLowerCase(), custodianAddress: null },
      });
      moved.push(tokenId);
    }
    return moved;
  }

  async function notify(tokenIds: Iterable<bigint>): Promise<void> {
    const unique = [...new Set(tokenIds)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (unique.length === 0 || !onTokensChanged) return;
    try {
      await onTokensChanged(unique);
    } catch (error) {
      // The commit is done: a failing listener must not make the indexer redo (or stall on) indexed blocks.
      log.error({ err: error, chainId, tokens: unique.length }, "indexer onTokensChanged failed");
    }
  }

  /** The newest stored block still on the chain; null when every indexed block was replaced. */
  async function commonAncestor(head: bigint): Promise<{ number: bigint; hash: string } | null> {
    const rows = await db.chainBlock.findMany({
      where: { chainId },
      orderBy: { number: "desc" },
      select: { number: true, hash: true },
    });
    for (let i = 0; i < rows.length; i += HEADER_CONCURRENCY) {
      const chunk = rows.slice(i, i + HEADER_CONCURRENCY);
      const onChain = await headers(chunk.filter((row) => row.number <= head).map((row) => row.number));
      const hashes = new Map(onChain.map((h) => [h.number, h.hash]));
      const match = chunk.find((row) => hashes.get(row.number) === row.hash);
      if (match) return match;
    }
    if (rows.at(-1)?.number === startBlock) return null;
    throw new ReorgTooDeepError(
      `chain ${chainId}: none of the ${rows.length} blocks kept in chain_blocks (${rows.at(-1)?.number ?? "none"}..` +
        `${rows[0]?.number ?? "none"}) is still on the chain, a reorg deeper than the ${keep}-block window; ` +
        `re-index from a trusted block (delete the chain's cursor, events, blocks and tokens)`,
    );
  }

  async function rollBack(cursor: Cursor, head: bigint): Promise<StepResult> {
    const common = await commonAncestor(head);
    const keepUpTo = common?.number ?? startBlock - 1n;
    if (common && common.number === cursor.number) {
      throw new ChainMovedError(`chain ${chainId}: block ${cursor.number} changed back while it was being read`);
    }
    const { deleted, tokens } = await db.$transaction(async (tx) => {
      await lockCursor(tx, cursor);
      const affected = await tx.chainEvent.findMany({
        where: { chainId, blockNumber: { gt: keepUpTo }, tokenId: { not: null } },
        distinct: ["tokenId"],
        select: { tokenId: true },
      });
      const tokenIds = affected.flatMap((row) => (row.tokenId === null ? [] : [row.tokenId]));
      const { count } = await tx.chainEvent.deleteMany({ where: { chainId, blockNumber: { gt: keepUpTo } } });
      await tx.chainBlock.deleteMany({ where: { chainId, number: { gt: keepUpTo } } });
      const removed = await rebuildTokens(tx, tokenIds);
      if (removed.length > 0) {
        await tx.cropBatch.updateMany({
          where: { tokenId: { in: removed }, chainStatus: { not: "pending" } },
          data: { chainStatus: "pending" },
        });
      }
      if (common) {
        const cursorRow = { blockNumber: common.number, blockHash: common.hash };
        await tx.chainCursor.upsert({ where: { chainId }, create: { chainId, ...cursorRow }, update: cursorRow });
      } else {
        await tx.chainCursor.deleteMany({ where: { chainId } });
      }
      return { deleted: count, tokens: tokenIds };
    }, TRANSACTION_OPTIONS);
    reportLag(head, keepUpTo);
    log.warn(
      { chainId, from: keepUpTo + 1n, to: cursor.number, events: deleted, tokens: tokens.length },
      "chain reorg: rolled back the indexed blocks that left the chain",
    );
    await notify(tokens);
    return { from: keepUpTo + 1n, to: cursor.number, events: deleted, reorged: true };
  }

  function eventRow(entry: Log<bigint, number, false>): EventRow {
    let eventName = "Unknown";
    let args: Record<string, JsonArg>;
    let tokenId: bigint | null = null;
    try {
      const decoded = decodeEventLog({ abi: cropBatchAbi, data: entry.data, topics: entry.topics });
      eventName = decoded.eventName;
      args = toJsonArgs(decoded.args);
      if ("tokenId" in decoded.args && decoded.args.tokenId <= MAX_INT8) tokenId = decoded.args.tokenId;
    } catch (error) {
      // Kept raw rather than dropped: the event is the contract's, only this ABI cannot read it.
      log.warn({ err: error, chainId, txHash: entry.transactionHash }, "indexer could not decode a CropBatch log");
      args = { data: entry.data, ...Object.fromEntries(entry.topics.map((topic, i) => [`topic${i}`, topic])) };
    }
    return {
      chainId,
      txHash: entry.transactionHash,
      logIndex: entry.logIndex,
      blockNumber: entry.blockNumber,
      blockHash: entry.blockHash,
      eventName,
      tokenId,
      args,
    };
  }

  async function step(): Promise<StepResult | null> {
    const head = await client.getBlockNumber();
    const cursor = await readCursor();
    if (cursor.hash !== null) {
      const replaced = cursor.number > head || (await header(cursor.number)).hash !== cursor.hash;
      if (replaced) return rollBack(cursor, head);
    }
    if (cursor.number >= head) {
      reportLag(head, cursor.number);
      return null;
    }

    const from = cursor.number + 1n;
    const to = minBig(head, cursor.number + batchBlocks);
    const logs = await client.getLogs({ address: contract, fromBlock: from, toBlock: to });
    // Every unfinalized block is stored so chain_blocks stays linked by parentHash for the reorg walk; older
    // blocks only where they carry a log, plus both ends of the range.
    const wanted = new Set<bigint>([from, to]);
    for (let n = maxBig(from, head - keep + 1n); n <= to; n++) wanted.add(n);
    for (const entry of logs) wanted.add(entry.blockNumber);
    const fetched = await headers([...wanted].sort((a, b) => (a < b ? -1 : 1)));
    const byNumber = new Map(fetched.map((h) => [h.number, h]));

    const first = byNumber.get(from);
    if (cursor.hash !== null && first?.parentHash !== cursor.hash) return rollBack(cursor, head);
    for (const h of fetched) {
      const parent = byNumber.get(h.number - 1n);
      if (parent && h.parentHash !== parent.hash) {
        throw new ChainMovedError(`chain ${chainId}: block ${h.number} does not follow ${parent.number} (reorg)`);
      }
    }
    for (const entry of logs) {
      if (byNumber.get(entry.blockNumber)?.hash !== entry.blockHash) {
        throw new ChainMovedError(`chain ${chainId}: a log of block ${entry.blockNumber} is from another fork`);
      }
    }
    const rows = logs.map(eventRow);
    const last = byNumber.get(to);
    if (!last) throw new Error(`block ${to} was not fetched`);

    await hooks?.beforeCommit?.();
    const changed = await db.$transaction(async (tx) => {
      await lockCursor(tx, cursor);
      if (rows.length > 0) await tx.chainEvent.createMany({ data: rows, skipDuplicates: true });
      await tx.chainBlock.deleteMany({ where: { chainId, number: { gte: from, lte: to } } });
      await tx.chainBlock.createMany({
        data: fetched.map((h) => ({ chainId, number: h.number, hash: h.hash, parentHash: h.parentHash })),
      });
      await tx.chainBlock.deleteMany({ where: { chainId, number: { lte: to - keep } } });
      const tokenIds = [...new Set(rows.flatMap((row) => (typeof row.tokenId === "bigint" ? [row.tokenId] : [])))];
      await rebuildTokens(tx, tokenIds);
      const statusChanged = await updateChainStatus(tx, head);
      const transferred = await followExternalTransfers(tx, rows);
      const cursorRow = { blockNumber: to, blockHash: last.hash };
      await tx.chainCursor.upsert({ where: { chainId }, create: { chainId, ...cursorRow }, update: cursorRow });
      return [...tokenIds, ...statusChanged, ...transferred];
    }, TRANSACTION_OPTIONS);
    const committed = Date.now() / 1000;
    // Every log's block was fetched above, so its timestamp costs no call of its own.
    for (const entry of logs) {
      const minedAt = Number(byNumber.get(entry.blockNumber)?.timestamp);
      metrics.chainSync.observe(Math.max(0, committed - minedAt));
    }
    reportLag(head, to);
    await notify(changed);
    return { from, to, events: rows.length, reorged: false };
  }

  async function run(signal: AbortSignal, intervalMs = 250): Promise<void> {
    let failures = 0;
    let idle = 0;
    // The newest block when a step last found nothing to do: while it stays the newest, polling skips the database.
    let idleAt: Hash | null = null;
    while (!signal.aborted) {
      let wait = 0;
      try {
        const latest = (await client.getBlock({ blockTag: "latest" })).hash;
        if (latest !== idleAt) idleAt = (await inLoopSpan("indexer step", step)) === null ? latest : null;
        idle = idleAt === null ? 0 : idle + 1;
        if (idleAt !== null) wait = Math.min(intervalMs * 2 ** (idle - 1), IDLE_INTERVAL_MS);
        failures = 0;
        metrics.chainPolled.setToCurrentTime();
      } catch (error) {
        if (error instanceof ChainMovedError) {
          log.warn({ chainId, reason: error.message }, "indexer step abandoned; retrying");
          wait = intervalMs;
        } else {
          failures = Math.min(failures + 1, 20);
          wait = Math.min(intervalMs * 2 ** failures, MAX_BACKOFF_MS);
          log.error({ err: error, chainId, failures, retryInMs: wait }, "indexer step failed");
        }
      }
      if (wait > 0) await delay(wait, undefined, { signal }).catch(() => undefined);
    }
  }

  async function lag(): Promise<IndexerLag> {
    const [head, cursor] = await Promise.all([client.getBlockNumber(), readCursor()]);
    return { head, indexed: cursor.number, blocks: maxBig(0n, head - cursor.number) };
  }

  return { step, run, lag };
}
