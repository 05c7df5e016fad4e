import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

export type BatchRecord = {
  clientId: string;
  cropType: string;
  variety: string | null;
  quantity: string;
  unit: string;
  harvestDate: string;
  farmId: number;
  qualityScore: number;
  metadata: unknown;
  /** Only in records that have them, so records from before GS1 keys existed hash as they always did. */
  gtin?: string;
  lot?: string;
};

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** SHA-256 of the record's RFC 8785 (JCS) canonical JSON: the hash anchored on chain. */
export function contentHash(record: BatchRecord): string {
  const canonical = canonicalize({ ...record, quantity: Number(record.quantity).toFixed(3) });
  if (canonical === undefined) throw new Error("Batch record cannot be canonicalized");
  return sha256Hex(canonical);
}
