import { renameSync } from "node:fs";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import {
  type Address,
  BlockNotFoundError,
  createPublicClient,
  createTestClient,
  defineChain,
  http,
  type LocalAccount,
  type PublicClient,
  type TestClient,
} from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { type AnvilInstance, AnvilStateUnreadableError, startAnvil } from "@/lib/chain/anvil";
import { createIndexer } from "@/lib/chain/indexer";
import { createRelayer, createSigner, deployStored } from "@/lib/chain/relayer";
import { DEV_MNEMONIC } from "@/lib/demo/demo-accounts";
import type { env as appEnv } from "@/lib/env.mjs";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import { log } from "@/lib/log";
import { tracedTransport } from "@/lib/observability/tracing/traced-transport";

export type ChainRuntime = {
  chainId: number;
  contract: Address;
  client: PublicClient;
  lag(): Promise<{ head: bigint; indexed: bigint; blocks: bigint }>;
  stop(): Promise<void>;
};

type Options = {
  db: PrismaClient;
  config: (typeof appEnv)["chain"];
  dataDir: string;
  embeddedPort: number;
  /** 0: a block only when a transaction arrives, and the confirmations after it. */
  blockSeconds: number;
  /** 0: the embedded chain's state is written only when it shuts down. */
  dumpSeconds: number;
  onTokensChanged: (tokenIds: bigint[]) => Promise<void>;
};

const MAX_RESTART_DELAY_MS = 30_000;
/**
 * One block while anvil's pool holds transactions. anvil answers anvil_mine before it has mined: asking for a
 * block per pooled transaction queued tens of thousands of empty blocks during a replay.
 */
async function minePool(miner: TestClient<"anvil">): Promise<number> {
  const { pending } = await miner.getTxpoolStatus();
  if (pending === 0) return 0;
  await miner.mine({ blocks: 1 });
  return 1;
}

/** anvil from its last dump; a dump it cannot parse is set aside, and the relayer replays onto an empty chain. */
async function startEmbeddedChain(options: Options): Promise<AnvilInstance> {
  const stateFile = path.join(options.dataDir, "anvil", "state.json");
  const start = () =>
    startAnvil({
      port: options.embeddedPort,
      chainId: options.config.chainId,
      stateFile,
      stateIntervalSeconds: options.dumpSeconds,
      blockTime: options.blockSeconds || undefined,
    });
  try {
    return await start();
  } catch (error) {
    if (!(error instanceof AnvilStateUnreadableError)) throw error;
    const aside = `${stateFile}.unreadable`;
    renameSync(stateFile, aside);
    log.warn({ aside }, "embedded chain state file unreadable; set aside, replaying stored transactions");
    return start();
  }
}

/** True when the chain lacks blocks the indexer has seen: it started again from an older dump, or from none. */
async function chainForgot(db: PrismaClient, client: PublicClient, chainId: number, contract: Address) {
  const code = await client.getCode({ address: contract });
  if (!code || code === "0x") return true;
  const cursor = await db.chainCursor.findUnique({ where: { chainId } });
  if (!cursor) return false;
  const block = await client.getBlock({ blockNumber: cursor.blockNumber }).catch((error: unknown) => {
    if (error instanceof BlockNotFoundError) return null;
    throw error;
  });
  return block?.hash !== cursor.blockHash;
}

/**
 * The relayer replays every stored transaction the chain lacks (the deployment first, byte for byte, so at the same
 * address), and the indexer rebuilds its projection from scratch: the replayed blocks have other hashes.
 */
async function forgetIndexedChain(db: PrismaClient, chainId: number): Promise<void> {
  log.warn({ chainId }, "embedded chain lost blocks; replaying stored transactions and re-indexing");
  await db.$transaction([
    db.chainEvent.deleteMany({ where: { chainId } }),
    db.chainBlock.deleteMany({ where: { chainId } }),
    db.chainToken.deleteMany({ where: { chainId } }),
    db.chainCursor.deleteMany({ where: { chainId } }),
    db.cropBatch.updateMany({ where: { chainStatus: { not: "pending" } }, data: { chainStatus: "pending" } }),
  ]);
}

async function contractFor(
  options: Options,
  client: PublicClient,
  account: LocalAccount,
  signer: ReturnType<typeof createSigner>,
) {
  const { db, config } = options;
  if (config.contract) return { address: config.contract as Address, startBlock: config.startBlock };
  const known = await db.chainDeployment.findUnique({ where: { chainId: config.chainId } });
  if (known) {
    const address = known.contractAddress as Address;
    if (await chainForgot(db, client, config.chainId, address)) await forgetIndexedChain(db, config.chainId);
    return { address, startBlock: known.deployBlock };
  }
  const startBlock = await client.getBlockNumber();
  const deployed = await deployStored(signer, account, account.address);
  await db.chainDeployment.create({
    data: {
      chainId: config.chainId,
      contractAddress: deployed.address.toLowerCase(),
      deployBlock: startBlock,
      deployTxHash: deployed.txHash,
    },
  });
  log.info({ contract: deployed.address }, "CropBatch deployed on the embedded chain");
  return { address: deployed.address, startBlock };
}

/**
 * The embedded anvil (or the configured RPC), the contract, and the relayer and indexer loops. An embedded anvil
 * that dies is started again from its last dump; the relayer replays what it lacks.
 */
export async function startChain(options: Options): Promise<ChainRuntime> {
  const { db, config } = options;
  let anvil = config.embedded ? await startEmbeddedChain(options) : undefined;
  const chain = defineChain({
    id: config.chainId,
    name: config.embedded ? "GreenLedger local" : `chain ${config.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
  const client = createPublicClient({
    chain,
    transport: tracedTransport(http(config.rpcUrl)),
    cacheTime: 0,
    pollingInterval: 250,
  });
  const remoteChainId = await client.getChainId();
  if (remoteChainId !== config.chainId) {
    throw new Error(`CHAIN_RPC_URL serves chain ${remoteChainId}, but CHAIN_ID is ${config.chainId}.`);
  }
  const account = config.relayerKey
    ? privateKeyToAccount(config.relayerKey)
    : mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 0 });
  const signer = createSigner({ db, client, account, chainId: config.chainId });
  const contract = await contractFor(options, client, account, signer);

  // Mining many blocks can take anvil longer than viem's default 10 s; a retry would mine them all again.
  const miner = createTestClient({
    chain,
    mode: "anvil",
    transport: http(config.rpcUrl, { timeout: 60_000, retryCount: 0 }),
  });
  const mineOnDemand = config.embedded && !options.blockSeconds;
  const relayer = createRelayer({
    db,
    client,
    account,
    chainId: config.chainId,
    contract: contract.address,
    confirmations: config.confirmations,
    mineBlocks: mineOnDemand ? (blocks) => miner.mine({ blocks }) : undefined,
    minePool: mineOnDemand ? () => minePool(miner) : undefined,
  });
  const indexer = createIndexer({
    db,
    client,
    chainId: config.chainId,
    contract: contract.address,
    startBlock: contract.startBlock,
    confirmations: config.confirmations,
    onTokensChanged: options.onTokensChanged,
  });

  const stopping = new AbortController();
  let loops = new AbortController();
  let running: Promise<void>[] = [];
  const runLoops = () => {
    loops = new AbortController();
    running = [relayer.run(loops.signal), indexer.run(loops.signal)];
  };
  const pauseLoops = async () => {
    loops.abort();
    await Promise.allSettled(running);
  };

  async function restartEmbeddedChain(): Promise<AnvilInstance | undefined> {
    for (let attempt = 0; !stopping.signal.aborted; attempt++) {
      let restarted: AnvilInstance | undefined;
      try {
        restarted = await startEmbeddedChain(options);
        if (await chainForgot(db, client, config.chainId, contract.address)) {
          await forgetIndexedChain(db, config.chainId);
        }
        return restarted;
      } catch (error) {
        await restarted?.stop();
        const wait = Math.min(1_000 * 2 ** attempt, MAX_RESTART_DELAY_MS);
        log.error({ err: error, attempt, retryInMs: wait }, "embedded chain did not start again; retrying");
        await delay(wait, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    }
    return undefined;
  }

  async function supervise(): Promise<void> {
    while (anvil) {
      await anvil.exited;
      if (stopping.signal.aborted) return;
      log.error({ pid: anvil.pid }, "embedded chain exited; starting it again");
      await pauseLoops();
      const restarted = await restartEmbeddedChain();
      if (!restarted) return;
      anvil = restarted;
      // stop() may have run while it started, and stopped only the dead instance.
      if (stopping.signal.aborted) return void (await restarted.stop());
      runLoops();
    }
  }

  runLoops();
  const supervision = supervise();
  log.info({ chainId: config.chainId, contract: contract.address, embedded: config.embedded }, "chain connected");

  return {
    chainId: config.chainId,
    contract: contract.address,
    client,
    lag: () => indexer.lag(),
    async stop() {
      stopping.abort();
      await pauseLoops();
      await anvil?.stop();
      await supervision;
    },
  };
}
