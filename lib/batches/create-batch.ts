import "server-only";
import { ApiError } from "@/lib/api/errors";
import { type BatchDto, isoDate, toBatchDto } from "@/lib/batches/batch-dto";
import { contentHash } from "@/lib/batches/content-hash";
import { onBatchChanged } from "@/lib/batches/on-batch-changed";
import type { CreateBatchInput } from "@/lib/batches/schema";
import { db } from "@/lib/db/client";
import { buildEpcisEvent } from "@/lib/epcis/event";
import type { Farm, Prisma } from "@/lib/generated/prisma/client";
import type { Transaction } from "@/lib/idempotency/with-idempotency";

export type CreateBatchResult = { batch: BatchDto; created: boolean };

const UTC = "+00:00";

/**
 * Creates the batch once per client id; a retry with the same record returns the first batch. Its writes run in
 * `transaction` (an idempotent request's holds the key too).
 */
export async function createBatch(
  input: CreateBatchInput,
  owner: string,
  transaction: Transaction<CreateBatchResult> = (work) => db.$transaction(work),
): Promise<CreateBatchResult> {
  const farm = await db.farm.findUnique({ where: { id: input.farmId } });
  if (!farm)
    throw new ApiError("bad_request", "The farm does not exist.", [{ path: "farmId", message: "Unknown farm" }]);
  if (farm.ownerAddress !== owner) throw new ApiError("forbidden", "You can only log batches for your own farm.");

  const quantity = input.quantity.toFixed(3);
  const hash = contentHash({
    clientId: input.clientId,
    cropType: input.cropType,
    variety: input.variety ?? null,
    quantity,
    unit: input.unit,
    harvestDate: input.harvestDate,
    farmId: input.farmId,
    qualityScore: input.qualityScore,
    metadata: input.metadata,
    ...(input.gtin && input.lot ? { gtin: input.gtin, lot: input.lot } : {}),
  });

  const result = await transaction(async (tx) => {
    const rows = await tx.cropBatch.createManyAndReturn({
      data: [
        {
          clientId: input.clientId,
          cropType: input.cropType,
          variety: input.variety ?? null,
          quantity,
          unit: input.unit,
          harvestDate: new Date(`${input.harvestDate}T00:00:00Z`),
          originFarm: farm.id,
          qualityScore: input.qualityScore,
          metadata: input.metadata,
          ownerAddress: owner,
          contentHash: hash,
          gtin: input.gtin ?? null,
          lot: input.lot ?? null,
          searchText: [input.cropType, input.variety, farm.name, farm.region].filter(Boolean).join(" ").toLowerCase(),
        },
      ],
      skipDuplicates: true,
    });
    const batch = rows[0];
    if (!batch) return { batch: await existingBatch(tx, input, owner, hash, farm), created: false };
    const event = buildEpcisEvent({
      kind: "create",
      tokenId: batch.tokenId,
      disposition: "active",
      eventTime: batch.createdAt,
      timeZoneOffset: UTC,
      bizLocation: `urn:greenledger:farm:${farm.id}`,
      actor: owner,
      quantity: { value: input.quantity, uom: input.unit },
      extensions: {
        ilmd: {
          "gl:cropType": input.cropType,
          "gl:harvestDate": input.harvestDate,
          "gl:qualityScore": input.qualityScore,
          "cbvmda:countryOfOrigin": farm.country,
        },
        ...(input.metadata.certifications?.length ? { certificationInfo: input.metadata.certifications } : {}),
      },
    });
    await tx.chainJob.create({
      data: { tokenId: batch.tokenId, kind: "mint", args: { owner, contentHash: hash } },
    });
    await tx.batchEvent.create({
      data: {
        tokenId: batch.tokenId,
        eventId: event.eventId,
        eventType: event.eventType,
        action: event.action,
        bizStep: event.bizStep,
        disposition: "active",
        eventTime: batch.createdAt,
        eventTimeZoneOffset: UTC,
        actorAddress: owner,
        toState: 0,
        payload: event.document as object,
        eventHash: event.eventHash,
      },
    });
    return { batch: toBatchDto({ ...batch, farm }), created: true };
  });
  if (result.created) await onBatchChanged(result.batch.tokenId);
  return result;
}

/** The batch an earlier request created with this client id, if it is the same record from the same owner. */
async function existingBatch(
  tx: Prisma.TransactionClient,
  input: CreateBatchInput,
  owner: string,
  hash: string,
  farm: Farm,
): Promise<BatchDto> {
  const existing = await tx.cropBatch.findUnique({ where: { clientId: input.clientId } });
  if (!existing && input.gtin && input.lot) {
    throw new ApiError("conflict", "Another batch already has this GTIN and lot.", [
      { path: "lot", message: "Already used with this GTIN" },
    ]);
  }
  if (!existing) throw new Error(`Batch ${input.clientId} vanished after a conflicting insert`);
  if (existing.contentHash !== hash || existing.ownerAddress !== owner) {
    throw new ApiError("client_id_reused", "This batch id was already used for a different batch.", [
      { path: "clientId", message: `Already used on ${isoDate(existing.createdAt)}` },
    ]);
  }
  // The same content hash means the same farm: no second read of it inside the transaction.
  return toBatchDto({ ...existing, farm });
}
