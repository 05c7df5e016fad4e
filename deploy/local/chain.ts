import { createTestClient, http, parseEther } from "viem";
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { type AnvilInstance, startAnvil } from "@/lib/chain/anvil";
import { deployCropBatch } from "@/lib/chain/deploy-crop-batch";
import { DEV_MNEMONIC } from "@/lib/demo/demo-accounts";

const CHAIN_ID = 31337;

export type LocalChain = {
  anvil: AnvilInstance;
  /** The settings every instance on this chain shares (CHAIN_RPC_URL, CHAIN_ID, CROP_BATCH_ADDRESS, ...). */
  env: Record<string, string>;
  /** The relayer's key, for workers only: web instances never sign. */
  relayerKey: `0x${string}`;
  stop(): Promise<unknown>;
};

/** A chain several instances share: anvil mining a block a second, CropBatch deployed, a funded relayer. */
export async function startLocalChain(): Promise<LocalChain> {
  // Blocks keep coming, so transactions get their confirmations with no one mining on demand.
  const anvil = await startAnvil({ port: 0, chainId: CHAIN_ID, blockTime: 1 });
  try {
    const relayerKey = generatePrivateKey();
    const relayer = privateKeyToAccount(relayerKey).address;
    const deployer = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 0 }).getHdKey().privateKey;
    if (!deployer) throw new Error("no development deployer key");
    const contract = await deployCropBatch({
      rpcUrl: anvil.rpcUrl,
      deployerKey: `0x${Buffer.from(deployer).toString("hex")}`,
      relayer,
    });
    await createTestClient({ mode: "anvil", transport: http(anvil.rpcUrl) }).setBalance({
      address: relayer,
      value: parseEther("1000"),
    });
    return {
      anvil,
      relayerKey,
      env: {
        CHAIN_RPC_URL: anvil.rpcUrl,
        CHAIN_ID: String(CHAIN_ID),
        CROP_BATCH_ADDRESS: contract.address,
        CHAIN_START_BLOCK: String(contract.blockNumber),
        CHAIN_CONFIRMATIONS: "1",
      },
      stop: () => anvil.stop(),
    };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}
