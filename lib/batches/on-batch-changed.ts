import { invalidate } from "@/lib/cache/tiered-cache";

export function verificationKey(tokenId: number | bigint): string {
  return `verify:${tokenId}`;
}

/** Every write to a batch ends here, so what depends on it is dropped in one place. */
export async function onBatchChanged(tokenId: number | bigint): Promise<void> {
  await invalidate(verificationKey(tokenId));
}
