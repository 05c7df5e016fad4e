import { env } from "@/lib/env.mjs";

/** What a label's QR code encodes: the public verification page of the batch. */
export function verificationUrl(tokenId: number): string {
  return new URL(`/verify/${tokenId}`, env.PUBLIC_BASE_URL).toString();
}
