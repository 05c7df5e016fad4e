import "server-only";
import { ApiError } from "@/lib/api/errors";
import { type BatchDto, isoDate, toBatchDto } from "@/lib/batches/batch-dto";
import { contentHash } from "@/lib/batches/content-hash";
import { onBatchChanged } from "@/lib/batches/on-batch-changed";
import type { CreateBatchInput } from "@/lib/batches/schema";
import { db } from "@/lib/db/client";
import { buildEpcisEvent } from "@/lib/epcis/event";

export type CreateBatchResult = { batch: BatchDto; created: boolean };

const UTC = "+00:00";

/** Creates the batch once per client id; a retry with the same record returns the first batch. */
export async function createBatch(input: CreateBatchInput, owner: string): Promise<CreateBatchResult> {
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

  const inserted = await db.$transaction(async (tx) => {
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
    if (!batch) return null;
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
    return batch;
  });

  if (inserted) {
    await onBatchChanged(inserted.tokenId);
    return { batch: toBatchDto({ ...inserted, farm }), created: true };
  }
  const existing = await db.cropBatch.findUnique({ where: { clientId: input.clientId }, include: { farm: true } });
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
  return { batch: toBatchDto(existing), created: false };
}
