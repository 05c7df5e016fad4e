import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import {
  type Address,
  BaseError,
  ContractFunctionRevertedError,
  createClient,
  createPublicClient,
  createWalletClient,
  defineChain,
  getContract,
  type Hash,
  type Hex,
  http,
  keccak256,
  type PublicClient,
  rpcSchema,
  type TransactionReceipt,
  toHex,
} from "viem";
import { type HDAccount, mnemonicToAccount } from "viem/accounts";
import { type AnvilInstance, startAnvil } from "@/lib/chain/anvil";
import { cropBatchAbi } from "@/lib/chain/crop-batch-abi";
import { deployCropBatch } from "@/lib/chain/deploy-crop-batch";
import { waitForReceipt } from "@/lib/chain/receipt";
import { migrate } from "@/lib/db/migrate";
import { DEV_MNEMONIC } from "@/lib/demo/demo-accounts";
import { PrismaClient } from "@/lib/generated/prisma/client";
import { freshDatabase } from "@/tests/support/fresh-database";

export const devAccount = (index: number): HDAccount => mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index });

export function privateKeyOf(account: HDAccount): Hex {
  const key = account.getHdKey().privateKey;
  if (!key) throw new Error("dev account without a private key");
  return toHex(key);
}

export const contentHashFor = (tokenId: bigint, variant = "a"): Hash =>
  keccak256(toHex(`crop-batch-${tokenId}-${variant}`));

export type TestDatabase = { url: string; db: PrismaClient; close(): Promise<void> };

/** A migrated database of its own; one pooled connection, which is all PGlite's socket server handles safely. */
export async function openTestDatabase(): Promise<TestDatabase> {
  const database = await freshDatabase();
  try {
    await migrate(database.url);
  } catch (error) {
    await database.drop();
    throw error;
  }
  const { db, close } = connect(database.url);
  return {
    url: database.url,
    db,
    async close() {
      await close();
      await database.drop();
    },
  };
}

export function connect(url: string): { db: PrismaClient; close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const db = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    db,
    async close() {
      await db.$disconnect();
      // pg-pool's end() resolves before its clients' sockets are closed: a DROP DATABASE ... WITH (FORCE) right
      // after it kills a connection that is still ending, an uncaught error. Its "remove" events come after.
      const open = pool.totalCount;
      let removed = 0;
      const sockets = new Promise<void>((resolve) => {
        if (open === 0) resolve();
        pool.on("remove", () => {
          removed += 1;
          if (removed >= open) resolve();
        });
      });
      await pool.end();
      await sockets;
    },
  };
}

type AnvilRpc = [
  { Method: "anvil_mine"; Parameters: [blocks: Hex]; ReturnType: null },
  { Method: "anvil_rollback"; Parameters: [depth: number]; ReturnType: null },
];

function makeChainWorld(anvil: AnvilInstance, chainId: number, contract: Address, deployBlock: bigint) {
  const chain = defineChain({
    id: chainId,
    name: `anvil ${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [anvil.rpcUrl] } },
  });
  const client: PublicClient = createPublicClient({ chain, transport: http(anvil.rpcUrl), cacheTime: 0 });
  const anvilRpc = createClient({ transport: http(anvil.rpcUrl), rpcSchema: rpcSchema<AnvilRpc>() });
  const relayer = devAccount(0);
  const wallet = createWalletClient({ account: relayer, chain, transport: http(anvil.rpcUrl), cacheTime: 0 });
  const write = getContract({ address: contract, abi: cropBatchAbi, client: { public: client, wallet } }).write;

  async function mined(hash: Promise<Hash>): Promise<TransactionReceipt> {
    const receipt = await waitForReceipt(client, await hash, { intervalMs: 5 });
    if (receipt.status !== "success") throw new Error(`transaction ${receipt.transactionHash} reverted`);
    return receipt;
  }

  return {
    anvil,
    chainId,
    contract,
    deployBlock,
    client,
    farmer: devAccount(1).address,
    buyer: devAccount(4).address,
    mint: (to: Address, tokenId: bigint, variant = "a") =>
      mined(write.mint([to, tokenId, contentHashFor(tokenId, variant)])),
    mintBatch: (to: Address, tokenIds: bigint[]) =>
      mined(write.mintBatch([tokenIds.map(() => to), tokenIds, tokenIds.map((id) => contentHashFor(id))])),
    ship: (tokenId: bigint) => mined(write.ship([tokenId])),
    receive: (tokenId: bigint) => mined(write.markReceived([tokenId])),
    sell: (tokenId: bigint, buyer: Address) => mined(write.sell([tokenId, buyer])),
    consume: (tokenId: bigint) => mined(write.consume([tokenId])),
    recall: (tokenId: bigint, reason: string) => mined(write.recall([tokenId, reason])),
    inspect: (tokenId: bigint, conformant: boolean) => mined(write.inspect([tokenId, conformant])),
    /** Empty blocks, e.g. to push earlier blocks past the finality depth. */
    mine: (blocks: number) => anvilRpc.request({ method: "anvil_mine", params: [toHex(blocks)] }),
    /** anvil 1.7: drops the newest `depth` blocks (and their transactions) from the chain. */
    rollback: (depth: number) => anvilRpc.request({ method: "anvil_rollback", params: [depth] }),
    stop: () => anvil.stop(),
  };
}

export type ChainWorld = ReturnType<typeof makeChainWorld>;

/** A fresh anvil (automine) with CropBatch deployed by dev account 0, which is also the relayer. */
export async function startChainWorld(chainId: number): Promise<ChainWorld> {
  const anvil = await startAnvil({ port: 0, chainId });
  try {
    const deployed = await deployCropBatch({ rpcUrl: anvil.rpcUrl, deployerKey: privateKeyOf(devAccount(0)) });
    return makeChainWorld(anvil, chainId, deployed.address, deployed.blockNumber);
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}

type OnChainBatch = { owner: string; state: number; contentHash: string } | null;
type ContractOnChain = Pick<ChainWorld, "chainId" | "client" | "contract">;

async function batchOnChain(world: ContractOnChain, tokenId: bigint, blockNumber: bigint): Promise<OnChainBatch> {
  try {
    const [owner, state, contentHash] = await world.client.readContract({
      address: world.contract,
      abi: cropBatchAbi,
      functionName: "batchOf",
      args: [tokenId],
      blockNumber,
    });
    return { owner: owner.toLowerCase(), state, contentHash: contentHash.slice(2) };
  } catch (error) {
    const revert = error instanceof BaseError ? error.walk((e) => e instanceof ContractFunctionRevertedError) : null;
    if (revert instanceof ContractFunctionRevertedError && revert.data?.errorName === "ERC721NonexistentToken") {
      return null;
    }
    throw error;
  }
}

/**
 * Every chain_tokens row of this chain against the contract's batchOf at the cursor's block, and every id in
 * `tokenIds` (whether or not it still exists on the chain) the other way round. Returns the mismatches.
 */
export async function compareWithContract(
  db: PrismaClient,
  world: ContractOnChain,
  tokenIds: Iterable<bigint>,
): Promise<{ mismatches: string[]; compared: number; atBlock: bigint }> {
  const cursor = await db.chainCursor.findUnique({ where: { chainId: world.chainId } });
  if (!cursor) throw new Error(`no cursor for chain ${world.chainId}`);
  const mismatches: string[] = [];
  const block = await world.client.getBlock({ blockNumber: cursor.blockNumber });
  if (block.hash !== cursor.blockHash)
    mismatches.push(`cursor ${cursor.blockNumber} hash ${cursor.blockHash} is off-chain`);
  const rows = await db.chainToken.findMany({ where: { chainId: world.chainId } });
  const byId = new Map(rows.map((row) => [row.tokenId, row]));
  const ids = [...new Set([...tokenIds, ...byId.keys()])];
  await Promise.all(
    ids.map(async (tokenId) => {
      const onChain = await batchOnChain(world, tokenId, cursor.blockNumber);
      const row = byId.get(tokenId);
      if (!row && !onChain) return;
      if (!row) return void mismatches.push(`token ${tokenId}: on chain, not in chain_tokens`);
      if (!onChain) return void mismatches.push(`token ${tokenId}: in chain_tokens, not on chain`);
      const indexed = { owner: row.ownerAddress, state: row.state, contentHash: row.contentHash };
      if (JSON.stringify(indexed) !== JSON.stringify(onChain)) {
        mismatches.push(`token ${tokenId}: indexed ${JSON.stringify(indexed)} != chain ${JSON.stringify(onChain)}`);
      }
    }),
  );
  return { mismatches, compared: ids.length, atBlock: cursor.blockNumber };
}

/** Polls the cursor (no event to await across the process boundary) until it reaches `blockNumber`. */
export async function waitForCursor(db: PrismaClient, chainId: number, blockNumber: bigint, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cursor = await db.chainCursor.findUnique({ where: { chainId } });
    if (cursor && cursor.blockNumber >= blockNumber) return cursor;
    if (Date.now() > deadline) {
      throw new Error(`indexer cursor at ${cursor?.blockNumber ?? "none"}, not ${blockNumber}, after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Everything the indexer writes for one chain, in a stable order, for before/after comparisons. */
export async function chainTables(db: PrismaClient, chainId: number) {
  const [cursor, blocks, events, tokens] = await Promise.all([
    db.chainCursor.findUnique({ where: { chainId }, omit: { updatedAt: true } }),
    db.chainBlock.findMany({ where: { chainId }, orderBy: { number: "asc" } }),
    db.chainEvent.findMany({
      where: { chainId },
      orderBy: [{ blockNumber: "asc" }, { logIndex: "asc" }],
      omit: { createdAt: true },
    }),
    db.chainToken.findMany({ where: { chainId }, orderBy: { tokenId: "asc" }, omit: { updatedAt: true } }),
  ]);
  return { cursor, blocks, events, tokens };
}

/** crop_batches rows (and their farm) for token ids the test will mint, so chain_status has rows to move. */
export async function createCropBatches(db: PrismaClient, tokenIds: readonly bigint[], owner: Address) {
  const farm = await db.farm.create({
    data: { name: "Indexer test farm", region: "Test", country: "NL", latitude: 52, longitude: 5, ownerAddress: owner },
  });
  for (const tokenId of tokenIds) {
    await db.cropBatch.create({
      data: {
        tokenId,
        clientId: crypto.randomUUID(),
        cropType: "tomato",
        quantity: "10.5",
        unit: "kg",
        harvestDate: new Date("2026-11-01"),
        originFarm: farm.id,
        qualityScore: 90,
        metadata: {},
        ownerAddress: owner.toLowerCase(),
        contentHash: contentHashFor(tokenId).slice(2),
        searchText: `tomato ${tokenId}`,
      },
    });
  }
}

export async function chainStatuses(db: PrismaClient, tokenIds: readonly bigint[]): Promise<Record<string, string>> {
  const rows = await db.cropBatch.findMany({
    where: { tokenId: { in: [...tokenIds] } },
    select: { tokenId: true, chainStatus: true },
  });
  return Object.fromEntries(rows.map((row) => [row.tokenId.toString(), row.chainStatus]));
}

/** What `lib/env.mjs` gives `startChain` for the embedded chain, on a port of the test's own. */
export function embeddedChainConfig(port: number) {
  return {
    embedded: true as const,
    rpcUrl: `http://127.0.0.1:${port}`,
    chainId: 31337,
    contract: undefined,
    startBlock: 0n,
    confirmations: 2,
    relayerKey: undefined,
  };
}

/**
 * Every queued step is final (or failed) on chain, and the indexer has seen every block that carries one, on the
 * chain the node serves now.
 */
export async function chainSettled(db: PrismaClient, client: PublicClient, chainId: number): Promise<boolean> {
  const [open, pendingBatches, lastMined, cursor] = await Promise.all([
    db.chainJob.count({ where: { status: { notIn: ["final", "failed"] } } }),
    db.cropBatch.count({ where: { chainStatus: { not: "final" } } }),
    db.chainTransaction.aggregate({ where: { chainId }, _max: { minedBlock: true } }),
    db.chainCursor.findUnique({ where: { chainId } }),
  ]);
  const mined = lastMined._max.minedBlock;
  if (open > 0 || pendingBatches > 0 || mined === null || cursor === null || cursor.blockNumber < mined) return false;
  const block = await client.getBlock({ blockNumber: cursor.blockNumber }).catch(() => null);
  return block?.hash === cursor.blockHash;
}
