import { ApiError } from "@/lib/api/errors";
import { checksum, isoDate, type TimelineEntry, toTimelineEntry } from "@/lib/batches/batch-dto";
import { contentHash } from "@/lib/batches/content-hash";
import { RECALLED, type StateName, stateName } from "@/lib/batches/lifecycle";
import { verificationKey } from "@/lib/batches/on-batch-changed";
import { cached } from "@/lib/cache/tiered-cache";
import { dbRead } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";

/**
 * verified: the record is intact and the chain holds the same hash, owner and state. pending: not yet on chain.
 * mismatch: the chain disagrees with the record. tampered: the record no longer matches its own hash.
 */
export type VerificationStatus = "verified" | "pending" | "mismatch" | "recalled" | "tampered";

export type ChainProof = {
  status: string;
  chainId: number;
  contract: string | null;
  tokenId: number;
  txHash: string | null;
  blockNumber: number | null;
  onChainHash: string | null;
  onChainOwner: string | null;
  onChainState: number | null;
};

export type Verification = {
  tokenId: number;
  isValid: boolean;
  status: VerificationStatus;
  /** The reason the latest recall gave, when it gave one. */
  recallReason: string | null;
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
    chain: ChainProof;
  };
};

let deployedContract: string | undefined;

async function contractAddress(): Promise<string | null> {
  if (env.chain.contract) return checksum(env.chain.contract);
  if (!deployedContract) {
    const deployment = await dbRead.chainDeployment.findUnique({ where: { chainId: env.chain.chainId } });
    if (deployment) deployedContract = checksum(deployment.contractAddress);
  }
  return deployedContract ?? null;
}

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
    ...(batch.gtin && batch.lot ? { gtin: batch.gtin, lot: batch.lot } : {}),
  });
  const intact = computedHash === batch.contentHash;
  const [token, contract] = await Promise.all([
    dbRead.chainToken.findUnique({
      where: { chainId_tokenId: { chainId: env.chain.chainId, tokenId: batch.tokenId } },
    }),
    contractAddress(),
  ]);
  const recalled = batch.currentState === RECALLED || token?.state === RECALLED;
  const agrees =
    token?.contentHash === batch.contentHash &&
    token.ownerAddress === batch.ownerAddress &&
    token.state === batch.currentState;
  const status: VerificationStatus = !intact
    ? "tampered"
    : recalled
      ? "recalled"
      : !token
        ? "pending"
        : agrees
          ? "verified"
          : "mismatch";
  const recall = batch.events.findLast((event) => event.toState === RECALLED);
  const reason = (recall?.payload as Record<string, unknown> | undefined)?.["gl:reason"];
  return {
    tokenId,
    isValid: status === "verified",
    status,
    recallReason: typeof reason === "string" ? reason : null,
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
      chain: {
        status: batch.chainStatus,
        chainId: env.chain.chainId,
        contract,
        tokenId,
        txHash: token?.mintTxHash ?? null,
        blockNumber: token ? Number(token.mintBlock) : null,
        onChainHash: token?.contentHash ?? null,
        onChainOwner: token ? checksum(token.ownerAddress) : null,
        onChainState: token?.state ?? null,
      },
    },
  };
}

/** What a consumer's scan needs; a plain function so any entry (route, page, fast path) can call it. */
export async function getVerification(tokenId: number): Promise<Verification> {
  const verification = await cached(verificationKey(tokenId), () => loadVerification(tokenId));
  if (!verification) throw new ApiError("not_found", `No batch has token id ${tokenId}. Check the code on the label.`);
  return verification;
}
