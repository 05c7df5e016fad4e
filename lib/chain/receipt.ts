import { type Hash, type TransactionReceipt, TransactionReceiptNotFoundError } from "viem";

export type ReceiptSource = {
  getTransactionReceipt(args: { hash: Hash }): Promise<TransactionReceipt>;
};

export type WaitForReceiptOptions = { intervalMs?: number; timeoutMs?: number };

/** Polls eth_getTransactionReceipt itself: viem's waitForTransactionReceipt has hung against anvil automine. */
export async function waitForReceipt(
  client: ReceiptSource,
  hash: Hash,
  { intervalMs = 25, timeoutMs = 30_000 }: WaitForReceiptOptions = {},
): Promise<TransactionReceipt> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await client.getTransactionReceipt({ hash });
    } catch (error) {
      if (!(error instanceof TransactionReceiptNotFoundError)) throw error;
    }
    if (Date.now() > deadline) throw new Error(`no receipt for ${hash} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
