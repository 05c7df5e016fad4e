import { ApiError } from "@/lib/api/errors";
import { checksum, isoDate, type TimelineEntry, toTimelineEntry } from "@/lib/batches/batch-dto";
import { contentHash } from "@/lib/batches/content-hash";
import { RECALLED, type StateName, stateName } from "@/lib/batches/lifecycle";
import { verificationKey } from "@/lib/batches/on-batch-changed";
import { cached } from "@/lib/cache/tiered-cache";
import { dbRead } from "@/lib/db/client";

export type VerificationStatus = "verified" | "recalled" | "tampered";

export type Verification = {
  tokenId: number;
  isValid: boolean;
  status: VerificationStatus;
  batch: {
    cropType: string;
    variety: string | null;
    quantity: number;
    unit: string;
    harvestDate: string;
    qualityScore: number;
    certifications: string[];
    organic: boolean | null;
    grade: string | null;
    state: number;
    stateName: StateName;
    ownerAddress: string;
    farm: { name: string; region: string; country: string };
  };
  timeline: TimelineEntry[];
  proof: {
    algorithm: "sha-256 over RFC 8785 canonical JSON";
    recordHash: string;
    computedHash: string;
    chain: { status: string };
  };
};

// A read point at pick-up would reveal the farm; the public page shows places to about 10 km.
function coarsen(readPoint: string | null): string | null {
  const match = readPoint?.match(/^geo:(-?[\d.]+),(-?[\d.]+)$/);
  return match ? `geo:${Number(match[1]).toFixed(1)},${Number(match[2]).toFixed(1)}` : null;
}

async function loadVerification(tokenId: number): Promise<Verification | null> {
  const batch = await dbRead.cropBatch.findUnique({
    where: { tokenId: BigInt(tokenId) },
    include: { farm: true, events: { orderBy: [{ eventTime: "asc" }, { id: "asc" }] } },
  });
  if (!batch) return null;
  const metadata = batch.metadata as { certifications?: string[]; organic?: boolean; grade?: string };
  const computedHash = contentHash({
    clientId: batch.clientId,
    cropType: batch.cropType,
    variety: batch.variety,
    quantity: batch.quantity.toFixed(3),
    unit: batch.unit,
    harvestDate: isoDate(batch.harvestDate),
    farmId: batch.originFarm,
    qualityScore: batch.qualityScore,
    metadata: batch.metadata,
  });
  const intact = computedHash === batch.contentHash;
  const recalled = batch.currentState === RECALLED;
  return {
    tokenId,
    isValid: intact && !recalled,
    status: !intact ? "tampered" : recalled ? "recalled" : "verified",
    batch: {
      cropType: batch.cropType,
      variety: batch.variety,
      quantity: batch.quantity.toNumber(),
      unit: batch.unit,
      harvestDate: isoDate(batch.harvestDate),
      qualityScore: batch.qualityScore,
      certifications: metadata.certifications ?? [],
      organic: metadata.organic ?? null,
      grade: metadata.grade ?? null,
      state: batch.currentState,
      stateName: stateName(batch.currentState),
      ownerAddress: checksum(batch.ownerAddress),
      farm: { name: batch.farm.name, region: batch.farm.region, country: batch.farm.country },
    },
    timeline: batch.events.map((event) => ({ ...toTimelineEntry(event), readPoint: coarsen(event.readPoint) })),
    proof: {
      algorithm: "sha-256 over RFC 8785 canonical JSON",
      recordHash: batch.contentHash,
      computedHash,
      chain: { status: batch.chainStatus },
    },
  };
}

/** What a consumer's scan needs; a plain function so any entry (route, page, fast path) can call it. */
export async function getVerification(tokenId: number): Promise<Verification> {
  const verification = await cached(verificationKey(tokenId), () => loadVerification(tokenId));
  if (!verification) throw new ApiError("not_found", `No batch has token id ${tokenId}. Check the code on the label.`);
  return verification;
}
