import { dbRead } from "@/lib/db/client";
import { flaggedInMemory } from "@/lib/scans/record-scan";

export type ScanStatus = { scans: number; flagged: boolean };

/** Counts as of the last flush; a flag this process raised shows at once. */
export async function getScanStatus(tokenId: number): Promise<ScanStatus> {
  const row = await dbRead.verificationScan.findUnique({ where: { tokenId: BigInt(tokenId) } });
  return { scans: Number(row?.scanCount ?? 0), flagged: flaggedInMemory(tokenId) || Boolean(row?.flaggedAt) };
}
