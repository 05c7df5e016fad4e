import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../../../../../../lib/generated/prisma/client";

const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL, max: 50 }) });
const chainId = 31337;

export const dynamic = "force-dynamic";

// What a first version of the endpoint would look like: the batch, its farm and history, and the chain's view of it.
export async function GET(_request: Request, { params }: { params: Promise<{ tokenId: string }> }) {
  const { tokenId } = await params;
  if (!/^[1-9][0-9]{0,15}$/.test(tokenId)) {
    return Response.json(
      { error: { code: "bad_request", message: "tokenId must be a positive whole number" } },
      { status: 400 },
    );
  }
  const id = BigInt(tokenId);
  const batch = await prisma.cropBatch.findUnique({
    where: { tokenId: id },
    include: { farm: true, events: { orderBy: [{ eventTime: "asc" }, { id: "asc" }] } },
  });
  if (!batch) return Response.json({ error: { code: "not_found", message: "No such batch" } }, { status: 404 });
  const token = await prisma.chainToken.findUnique({ where: { chainId_tokenId: { chainId, tokenId: id } } });
  const verified =
    token?.contentHash === batch.contentHash &&
    token.ownerAddress === batch.ownerAddress &&
    token.state === batch.currentState;
  return Response.json({
    tokenId: Number(batch.tokenId),
    isValid: verified,
    status: verified ? "verified" : token ? "mismatch" : "pending",
    batch: {
      cropType: batch.cropType,
      variety: batch.variety,
      quantity: batch.quantity.toNumber(),
      unit: batch.unit,
      harvestDate: batch.harvestDate.toISOString().slice(0, 10),
      qualityScore: batch.qualityScore,
      metadata: batch.metadata,
      state: batch.currentState,
      ownerAddress: batch.ownerAddress,
      farm: { name: batch.farm.name, region: batch.farm.region, country: batch.farm.country },
    },
    timeline: batch.events.map((event) => ({
      eventId: event.eventId,
      eventType: event.eventType,
      bizStep: event.bizStep,
      disposition: event.disposition,
      eventTime: event.eventTime.toISOString(),
      readPoint: event.readPoint,
      actorAddress: event.actorAddress,
      eventHash: event.eventHash,
    })),
    proof: {
      recordHash: batch.contentHash,
      chain: token
        ? { txHash: token.mintTxHash, blockNumber: Number(token.mintBlock), onChainHash: token.contentHash }
        : null,
    },
  });
}
