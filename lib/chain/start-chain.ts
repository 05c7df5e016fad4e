import path from "node:path";
import { type Address, createPublicClient, defineChain, http, type PublicClient } from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { type AnvilInstance, startAnvil } from "@/lib/chain/anvil";
import { createIndexer } from "@/lib/chain/indexer";
import { createRelayer, createSigner, deployStored } from "@/lib/chain/relayer";
import { DEV_MNEMONIC } from "@/lib/demo/demo-accounts";
import type { env as appEnv } from "@/lib/env.mjs";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import { log } from "@/lib/log";

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
  blockSeconds: number;
  onTokensChanged: (tokenIds: bigint[]) => Promise<void>;
};

async function contractFor(options: Options, client: PublicClient, signer: ReturnType<typeof createSigner>) {
  const { db, config } = options;
  if (config.contract) return { address: config.contract as Address, startBlock: config.startBlock };
  const known = await db.chainDeployment.findUnique({ where: { chainId: config.chainId } });
  if (known) {
    const code = await client.getCode({ address: known.contractAddress as Address });
    if (!code || code === "0x") {
      // The embedded chain lost its state: the relayer replays every stored transaction (the deployment first),
      // and the indexer's projection of the old chain is rebuilt from scratch.
      log.warn({ contract: known.contractAddress }, "embedded chain lost its state; replaying stored transactions");
      await db.$transaction([
        db.chainEvent.deleteMany({ where: { chainId: config.chainId } }),
        db.chainBlock.deleteMany({ where: { chainId: config.chainId } }),
        db.chainToken.deleteMany({ where: { chainId: config.chainId } }),
        db.chainCursor.deleteMany({ where: { chainId: config.chainId } }),
        db.cropBatch.updateMany({ where: { chainStatus: { not: "pending" } }, data: { chainStatus: "pending" } }),
      ]);
    }
    return { address: known.contractAddress as Address, startBlock: known.deployBlock };
  }
  const account = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 0 });
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

/** The embedded anvil (or the configured RPC), the contract, and the relayer and indexer loops. */
export async function startChain(options: Options): Promise<ChainRuntime> {
  const { db, config } = options;
  let anvil: AnvilInstance | undefined;
  if (config.embedded) {
    anvil = await startAnvil({
      port: options.embeddedPort,
      chainId: config.chainId,
      stateFile: path.join(options.dataDir, "anvil", "state.json"),
      blockTime: options.blockSeconds,
    });
  }
  const chain = defineChain({
    id: config.chainId,
    name: config.embedded ? "GreenLedger local" : `chain ${config.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
  const client = createPublicClient({ chain, transport: http(config.rpcUrl), cacheTime: 0, pollingInterval: 250 });
  const remoteChainId = await client.getChainId();
  if (remoteChainId !== config.chainId) {
    throw new Error(`CHAIN_RPC_URL serves chain ${remoteChainId}, but CHAIN_ID is ${config.chainId}.`);
  }
  const account = config.relayerKey
    ? privateKeyToAccount(config.relayerKey)
    : mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 0 });
  const signer = createSigner({ db, client, account, chainId: config.chainId });
  const contract = await contractFor(options, client, signer);

  const relayer = createRelayer({
    db,
    client,
    account,
    chainId: config.chainId,
    contract: contract.address,
    confirmations: config.confirmations,
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
  const controller = new AbortController();
  const loops = [relayer.run(controller.signal), indexer.run(controller.signal)];
  log.info({ chainId: config.chainId, contract: contract.address, embedded: config.embedded }, "chain connected");

  return {
    chainId: config.chainId,
    contract: contract.address,
    client,
    lag: () => indexer.lag(),
    async stop() {
      controller.abort();
      await Promise.allSettled(loops);
      await anvil?.stop();
    },
  };
}
