import { setTimeout as delay } from "node:timers/promises";
import {
  type Address,
  encodeDeployData,
  encodeFunctionData,
  getContractAddress,
  type Hex,
  keccak256,
  type LocalAccount,
  type PublicClient,
  TransactionReceiptNotFoundError,
} from "viem";
import { cropBatchAbi, cropBatchBytecode } from "@/lib/chain/crop-batch-abi";
import { type ChainJob, type ChainTransaction, Prisma, type PrismaClient } from "@/lib/generated/prisma/client";
import { log } from "@/lib/log";
import { inLoopSpan } from "@/lib/observability/tracing/spans";

// One relayer signs at a time across instances, so nonces are handed out in order.
const RELAYER_LOCK = 72707370;
// From bench/RESULTS.md: ~72.5k gas per token minted to a new holder, <= 55k per transition; with margin.
const MINT_BASE_GAS = 60_000n;
const MINT_GAS_PER_TOKEN = 90_000n;
const TRANSITION_GAS = 150_000n;
const DEPLOY_GAS = 4_000_000n;
// Receipts read per track(), so that a replay of thousands of transactions still lets the loop stop promptly.
const RECEIPTS_PER_TRACK = 500;
// With nothing queued or awaiting a receipt the poll slows down to this.
const IDLE_INTERVAL_MS = 2_000;

export type MintArgs = { owner: string; contentHash: string };
export type TransitionArgs = { buyer?: string; reason?: string; conformant?: boolean; eventHash?: string };

export type SignerOptions = { db: PrismaClient; client: PublicClient; account: LocalAccount; chainId: number };

export type RelayerOptions = SignerOptions & {
  contract: Address;
  confirmations: number;
  batchSize?: number;
  rebroadcastAfterMs?: number;
  /** On a chain that mines only when a transaction arrives (the embedded anvil): mines blocks. */
  mineBlocks?: (count: number) => Promise<void>;
  /** There, too: mines what its pool holds; resolves to the number of blocks mined. */
  minePool?: () => Promise<number>;
};

type Call = { data: Hex; gas: bigint };

function transitionCall(job: ChainJob): Call {
  const id = job.tokenId;
  const args = job.args as TransitionArgs;
  const data = (() => {
    switch (job.kind) {
      case "ship":
        return encodeFunctionData({ abi: cropBatchAbi, functionName: "ship", args: [id] });
      case "receive":
        return encodeFunctionData({ abi: cropBatchAbi, functionName: "markReceived", args: [id] });
      case "sell":
        return encodeFunctionData({ abi: cropBatchAbi, functionName: "sell", args: [id, args.buyer as Address] });
      case "consume":
        return encodeFunctionData({ abi: cropBatchAbi, functionName: "consume", args: [id] });
      case "recall":
        return encodeFunctionData({ abi: cropBatchAbi, functionName: "recall", args: [id, args.reason ?? ""] });
      case "inspect":
        return encodeFunctionData({ abi: cropBatchAbi, functionName: "inspect", args: [id, args.conformant ?? true] });
      case "anchor":
        return encodeFunctionData({ abi: cropBatchAbi, functionName: "anchor", args: [id, `0x${args.eventHash}`] });
      default:
        throw new Error(`Unknown chain job kind ${job.kind}`);
    }
  })();
  return { data, gas: TRANSITION_GAS };
}

function mintCall(jobs: ChainJob[]): Call {
  const owners = jobs.map((job) => (job.args as MintArgs).owner as Address);
  const hashes = jobs.map((job) => `0x${(job.args as MintArgs).contentHash}` as Hex);
  const data = encodeFunctionData({
    abi: cropBatchAbi,
    functionName: "mintBatch",
    args: [owners, jobs.map((job) => job.tokenId), hashes],
  });
  return { data, gas: MINT_BASE_GAS + MINT_GAS_PER_TOKEN * BigInt(jobs.length) };
}

function ignorable(error: unknown): boolean {
  const text = String((error as Error)?.message ?? error).toLowerCase();
  return text.includes("already known") || text.includes("nonce too low") || text.includes("already imported");
}

/** Every signed transaction is stored before it is broadcast, so one the chain loses is sent again, byte for byte. */
export function createSigner({ db, client, account, chainId }: SignerOptions) {
  const from = account.address.toLowerCase();

  async function fees() {
    const block = await client.getBlock({ blockTag: "latest" });
    const priority = 1_000_000_000n;
    const base = block.baseFeePerGas ?? 0n;
    return { maxFeePerGas: base * 2n + priority, maxPriorityFeePerGas: priority };
  }

  /** Signs one transaction with the next nonce and stores it with the jobs it carries, in one DB transaction. */
  async function signAndStore(kind: string, to: Address | null, call: Call, jobIds: bigint[]) {
    const fee = await fees();
    return db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${RELAYER_LOCK})`;
      const last = await tx.chainTransaction.findFirst({
        where: { chainId, fromAddress: from },
        orderBy: { nonce: "desc" },
        select: { nonce: true },
      });
      const nonce = last
        ? last.nonce + 1
        : await client.getTransactionCount({ address: account.address, blockTag: "pending" });
      const raw = await account.signTransaction({
        chainId,
        type: "eip1559",
        nonce,
        gas: call.gas,
        ...fee,
        ...(to ? { to } : {}),
        data: call.data,
      });
      const stored = await tx.chainTransaction.create({
        data: { chainId, fromAddress: from, nonce, hash: keccak256(raw), raw, kind },
      });
      if (jobIds.length) {
        await tx.chainJob.updateMany({ where: { id: { in: jobIds } }, data: { status: "sent", txId: stored.id } });
      }
      return stored;
    });
  }

  async function sendRaw(raw: string): Promise<void> {
    try {
      await client.sendRawTransaction({ serializedTransaction: raw as Hex });
    } catch (error) {
      if (!ignorable(error)) throw error;
    }
  }

  async function broadcast(id: bigint, raw: string): Promise<void> {
    await sendRaw(raw);
    await db.chainTransaction.update({ where: { id }, data: { broadcastAt: new Date() } });
  }

  return { from, signAndStore, sendRaw, broadcast };
}

/** Deploys CropBatch through the stored path, so a deployment the chain loses is replayed at the same address. */
export async function deployStored(signer: ReturnType<typeof createSigner>, account: LocalAccount, admin: Address) {
  const data = encodeDeployData({ abi: cropBatchAbi, bytecode: cropBatchBytecode, args: [admin, account.address] });
  const stored = await signer.signAndStore("deploy", null, { data, gas: DEPLOY_GAS }, []);
  await signer.broadcast(stored.id, stored.raw);
  return {
    address: getContractAddress({ from: account.address, nonce: BigInt(stored.nonce) }),
    txHash: stored.hash as Hex,
  };
}

/** Signs and sends mints and lifecycle steps for users who never hold gas. */
export function createRelayer(options: RelayerOptions) {
  const { db, client, account, chainId } = options;
  const { from, signAndStore, sendRaw, broadcast } = createSigner(options);
  const batchSize = options.batchSize ?? 100;
  const rebroadcastAfterMs = options.rebroadcastAfterMs ?? 3_000;

  /** Sends what is queued: mints grouped into mintBatch, each lifecycle step on its own, in job order. */
  async function send(): Promise<number> {
    const jobs = await db.chainJob.findMany({
      where: { status: "queued", nextAttemptAt: { lte: new Date() } },
      orderBy: { id: "asc" },
      take: batchSize,
    });
    let sent = 0;
    let index = 0;
    while (index < jobs.length) {
      const job = jobs[index] as ChainJob;
      if (job.kind === "mint") {
        const group: ChainJob[] = [];
        while (index < jobs.length && jobs[index]?.kind === "mint") group.push(jobs[index++] as ChainJob);
        const stored = await signAndStore(
          "mintBatch",
          options.contract,
          mintCall(group),
          group.map((item) => item.id),
        );
        await broadcast(stored.id, stored.raw);
      } else {
        const stored = await signAndStore(job.kind, options.contract, transitionCall(job), [job.id]);
        await broadcast(stored.id, stored.raw);
        index++;
      }
      sent++;
    }
    return sent;
  }

  /**
   * Receipts, finality, and re-broadcast of whatever the chain does not have (it may have lost state). Returns
   * whether transactions still wait for a receipt.
   */
  async function track(): Promise<boolean> {
    const chainNonce = await client.getTransactionCount({ address: account.address, blockTag: "pending" });
    const missing = await db.chainTransaction.findMany({
      where: { chainId, fromAddress: from, nonce: { gte: chainNonce } },
      orderBy: { nonce: "asc" },
    });
    // A chain that lost its state lacks thousands of them: the rows are written once for all, not per transaction.
    const lost = missing.filter((tx) => tx.status !== "pending").map((tx) => tx.id);
    if (lost.length) {
      await db.$transaction([
        db.chainTransaction.updateMany({ where: { id: { in: lost } }, data: { status: "pending", minedBlock: null } }),
        db.chainJob.updateMany({ where: { txId: { in: lost } }, data: { status: "sent" } }),
      ]);
    }
    const due = missing.filter(
      (tx) => tx.status !== "pending" || !tx.broadcastAt || Date.now() - tx.broadcastAt.getTime() > rebroadcastAfterMs,
    );
    for (const tx of due) await sendRaw(tx.raw);
    if (due.length) {
      await db.chainTransaction.updateMany({
        where: { id: { in: due.map((tx) => tx.id) } },
        data: { broadcastAt: new Date() },
      });
    }

    let head = await client.getBlockNumber();
    const pending = await db.chainTransaction.findMany({
      where: { chainId, status: "pending" },
      orderBy: { nonce: "asc" },
      take: RECEIPTS_PER_TRACK,
    });
    let waiting = 0;
    const mined: { tx: ChainTransaction; block: bigint; ok: boolean }[] = [];
    for (const tx of pending) {
      const receipt = await client.getTransactionReceipt({ hash: tx.hash as Hex }).catch((error: unknown) => {
        if (error instanceof TransactionReceiptNotFoundError) return null;
        throw error;
      });
      if (receipt) mined.push({ tx, block: receipt.blockNumber, ok: receipt.status === "success" });
      else waiting++;
    }
    if (mined.length) {
      // One statement for every receipt: after a replay there are thousands, each in a block of its own.
      const rows = mined.map(
        ({ tx, block, ok }) =>
          Prisma.sql`(${tx.id}::bigint, ${ok ? "mined" : "reverted"}::"ChainTxStatus", ${block}::bigint)`,
      );
      const reverted = mined.filter(({ ok }) => !ok).map(({ tx }) => tx);
      await db.$transaction([
        db.$executeRaw`
          UPDATE chain_transactions AS t SET status = v.status, mined_block = v.block
          FROM (VALUES ${Prisma.join(rows)}) AS v(id, status, block) WHERE t.id = v.id`,
        db.chainJob.updateMany({
          where: { txId: { in: mined.filter(({ ok }) => ok).map(({ tx }) => tx.id) } },
          data: { status: "confirmed" },
        }),
        ...reverted.map((tx) =>
          db.chainJob.updateMany({
            where: { txId: tx.id },
            data: { status: "failed", error: `Transaction ${tx.hash} reverted` },
          }),
        ),
      ]);
      for (const tx of reverted) log.error({ hash: tx.hash, kind: tx.kind }, "relayed transaction reverted");
    }

    // anvil's automine leaves transactions in its pool when thousands arrive at once (a replay).
    if (options.minePool && waiting > 0) head += BigInt(await options.minePool());
    if (options.mineBlocks && waiting === 0) {
      // Nothing else would mine the blocks that make the newest transaction final. The head is read again: the
      // one read above may be behind receipts recorded since (that mined thousands of empty blocks in a replay).
      const newest = await db.chainTransaction.findFirst({
        where: { chainId, fromAddress: from, minedBlock: { not: null } },
        orderBy: { nonce: "desc" },
        select: { minedBlock: true },
      });
      head = await client.getBlockNumber();
      const target = newest?.minedBlock ? newest.minedBlock + BigInt(options.confirmations) : head;
      if (target > head) {
        await options.mineBlocks(Number(target - head));
        head = target;
      }
    }

    const finalBlock = head - BigInt(options.confirmations);
    await db.chainJob.updateMany({
      where: { status: "confirmed", transaction: { minedBlock: { lte: finalBlock } } },
      data: { status: "final" },
    });
    return waiting > 0 || pending.length === RECEIPTS_PER_TRACK;
  }

  async function step(): Promise<number> {
    await track();
    return send();
  }

  async function run(signal: AbortSignal, intervalMs = 250): Promise<void> {
    let failures = 0;
    let quiet = 0;
    // The newest block when track() last found nothing waiting: until another block comes, it has nothing to do.
    let quietAt: Hex | null = null;
    while (!signal.aborted) {
      try {
        const latest = (await client.getBlock({ blockTag: "latest" })).hash;
        if (latest !== quietAt) quietAt = (await inLoopSpan("relayer track", track)) ? null : latest;
        const sent = await inLoopSpan("relayer send", send);
        failures = 0;
        if (sent) {
          quiet = 0;
          quietAt = null;
          continue;
        }
        quiet = quietAt === null ? 0 : quiet + 1;
      } catch (error) {
        failures++;
        log.warn({ err: error, failures }, "relayer step failed; backing off");
      }
      const wait = failures
        ? Math.min(intervalMs * 2 ** failures, 10_000)
        : Math.min(intervalMs * 2 ** quiet, IDLE_INTERVAL_MS);
      await delay(wait, undefined, { signal }).catch(() => undefined);
    }
  }

  return { step, send, track, run };
}

export type Relayer = ReturnType<typeof createRelayer>;
