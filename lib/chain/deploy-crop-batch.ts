import { type Address, createPublicClient, createWalletClient, defineChain, type Hash, type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { cropBatchAbi, cropBatchBytecode } from "./crop-batch-abi";
import { waitForReceipt } from "./receipt";

export type DeployCropBatchOptions = {
  rpcUrl: string;
  deployerKey: Hex;
  relayer?: Address;
  admin?: Address;
  pollIntervalMs?: number;
  timeoutMs?: number;
};

export type DeployedCropBatch = { address: Address; blockNumber: bigint; txHash: Hash };

export async function deployCropBatch(options: DeployCropBatchOptions): Promise<DeployedCropBatch> {
  const transport = http(options.rpcUrl);
  const probe = createPublicClient({ transport, cacheTime: 0 });
  const chain = defineChain({
    id: await probe.getChainId(),
    name: "crop-batch-rpc",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [options.rpcUrl] } },
  });
  const account = privateKeyToAccount(options.deployerKey);
  const publicClient = createPublicClient({ chain, transport, cacheTime: 0, pollingInterval: 50 });
  const walletClient = createWalletClient({ account, chain, transport, cacheTime: 0, pollingInterval: 50 });

  // Both roles are granted in the constructor, so there is never a deployed contract without a relayer.
  const txHash = await walletClient.deployContract({
    abi: cropBatchAbi,
    bytecode: cropBatchBytecode,
    args: [options.admin ?? account.address, options.relayer ?? account.address],
  });
  const receipt = await waitForReceipt(publicClient, txHash, {
    intervalMs: options.pollIntervalMs,
    timeoutMs: options.timeoutMs,
  });
  if (receipt.status !== "success" || !receipt.contractAddress) {
    throw new Error(`CropBatch deployment ${txHash} failed (status ${receipt.status})`);
  }
  return { address: receipt.contractAddress, blockNumber: receipt.blockNumber, txHash };
}
