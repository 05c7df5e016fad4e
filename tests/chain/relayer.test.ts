import { type Address, createPublicClient, type Hex, http, type PublicClient } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnvilInstance, findFreePort, startAnvil } from "@/lib/chain/anvil";
import { cropBatchAbi } from "@/lib/chain/crop-batch-abi";
import { createRelayer, createSigner, deployStored, type Relayer } from "@/lib/chain/relayer";
import { DEV_MNEMONIC } from "@/lib/demo/demo-accounts";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import { openTestDatabase, type TestDatabase } from "@/tests/chain/support/chain-world";

const relayerAccount = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 0 });
const farmer = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 1 }).address;
const buyer = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 4 }).address;
const hash = (n: number) => n.toString(16).padStart(64, "0");

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting for the chain");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("relayer", () => {
  let database: TestDatabase;
  let db: PrismaClient;
  let port: number;
  let anvil: AnvilInstance;
  let client: PublicClient;
  let contract: Address;
  let relayer: Relayer;

  const connect = async () => {
    anvil = await startAnvil({ port });
    client = createPublicClient({ transport: http(anvil.rpcUrl), cacheTime: 0 });
  };
  const relayerFor = () =>
    createRelayer({
      db,
      client,
      account: relayerAccount,
      chainId: 31337,
      contract,
      confirmations: 1,
      rebroadcastAfterMs: 200,
    });
  const onChain = async (tokenId: bigint) => {
    const [owner, state, contentHash] = await client.readContract({
      address: contract,
      abi: cropBatchAbi,
      functionName: "batchOf",
      args: [tokenId],
    });
    return { owner, state, contentHash };
  };
  const settle = () =>
    until(async () => {
      await relayer.step();
      const open = await db.chainJob.count({ where: { status: { in: ["queued", "sent"] } } });
      return open === 0 ? true : undefined;
    });

  beforeAll(async () => {
    database = await openTestDatabase();
    db = database.db;
    port = await findFreePort();
    await connect();
    const signer = createSigner({ db, client, account: relayerAccount, chainId: 31337 });
    contract = (await deployStored(signer, relayerAccount, relayerAccount.address)).address;
    relayer = relayerFor();
  });

  afterAll(async () => {
    await anvil?.stop();
    await database?.close();
  });

  it("mints queued batches in one mintBatch and relays lifecycle steps in order", async () => {
    await db.chainJob.createMany({
      data: [
        ...[1, 2, 3, 4, 5].map((id) => ({
          tokenId: BigInt(id),
          kind: "mint",
          args: { owner: farmer, contentHash: hash(id) },
        })),
        { tokenId: 1n, kind: "ship", args: {} },
        { tokenId: 2n, kind: "sell", args: { buyer } },
        { tokenId: 3n, kind: "recall", args: { reason: "Listeria found" } },
      ],
    });
    await settle();
    expect(await onChain(1n)).toEqual({ owner: farmer, state: 1, contentHash: `0x${hash(1)}` });
    expect(await onChain(2n)).toEqual({ owner: buyer, state: 3, contentHash: `0x${hash(2)}` });
    expect(await onChain(3n)).toMatchObject({ state: 5 });
    const mintTxs = await db.chainTransaction.findMany({ where: { kind: "mintBatch" } });
    expect(mintTxs).toHaveLength(1);
    expect(await db.chainJob.count({ where: { status: "failed" } })).toBe(0);
  });

  it("marks reverted steps failed instead of retrying them forever", async () => {
    await db.chainJob.create({ data: { tokenId: 4n, kind: "consume", args: {} } });
    await settle();
    const job = await db.chainJob.findFirstOrThrow({ where: { tokenId: 4n, kind: "consume" } });
    expect(job.status).toBe("failed");
    expect(job.error).toMatch(/reverted/);
    expect(await onChain(4n)).toMatchObject({ state: 0 });
  });

  it("re-broadcasts every stored transaction after the chain lost its state: no token disappears", async () => {
    const before = await Promise.all([1n, 2n, 3n, 4n, 5n].map(onChain));
    await anvil.stop();
    await connect();
    expect(await client.getCode({ address: contract })).toBeUndefined();

    relayer = relayerFor();
    await until(async () => {
      await relayer.track();
      const code = await client.getCode({ address: contract });
      const mined = await db.chainTransaction.count({ where: { status: "pending" } });
      return code && mined === 0 ? true : undefined;
    });
    const after = await Promise.all([1n, 2n, 3n, 4n, 5n].map(onChain));
    expect(after).toEqual(before);
    const stored = await db.chainTransaction.findMany({ orderBy: { nonce: "asc" }, select: { hash: true } });
    for (const { hash: txHash } of stored) {
      expect((await client.getTransactionReceipt({ hash: txHash as Hex })).transactionHash).toBe(txHash);
    }
  });

  it("keeps nonces in order when a new relayer instance starts on the same database", async () => {
    await db.chainJob.create({ data: { tokenId: 6n, kind: "mint", args: { owner: farmer, contentHash: hash(6) } } });
    relayer = relayerFor();
    await settle();
    expect(await onChain(6n)).toEqual({ owner: farmer, state: 0, contentHash: `0x${hash(6)}` });
    const nonces = (await db.chainTransaction.findMany({ orderBy: { nonce: "asc" }, select: { nonce: true } })).map(
      (row) => row.nonce,
    );
    expect(nonces).toEqual(nonces.map((_, index) => index));
  });
});
