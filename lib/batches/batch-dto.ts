import { LRUCache } from "lru-cache";
import { getAddress } from "viem";
import { type StateName, stateName } from "@/lib/batches/lifecycle";
import type { BatchEvent, CropBatch, Farm } from "@/lib/generated/prisma/client";

export type FarmSummary = { id: number; name: string; region: string; country: string };

export type BatchDto = {
  tokenId: number;
  clientId: string;
  cropType: string;
  variety: string | null;
  quantity: number;
  unit: string;
  harvestDate: string;
  farm: FarmSummary;
  qualityScore: number;
  metadata: Record<string, unknown>;
  state: number;
  stateName: StateName;
  ownerAddress: string;
  custodianAddress: string | null;
  contentHash: string;
  gtin: string | null;
  lot: string | null;
  chainStatus: string;
  createdAt: string;
  updatedAt: string;
};

export type TimelineEntry = {
  eventId: string;
  eventType: string;
  bizStep: string;
  disposition: string;
  stateName: StateName;
  eventTime: string;
  eventTimeZoneOffset: string;
  readPoint: string | null;
  actorAddress: string;
  eventHash: string;
};

export function isoDate(value: Date): string {
  return value.toISOString().slice(0, 10);
}

// Hot paths see the same few thousand owners again and again; viem's own LRU re-inserts into a Map on every hit.
const checksums = new LRUCache<string, string>({ max: 50_000 });

export function checksum(address: string): string {
  let result = checksums.get(address);
  if (result === undefined) {
    result = getAddress(address);
    checksums.set(address, result);
  }
  return result;
}

export function farmSummary(farm: Farm): FarmSummary {
  return { id: farm.id, name: farm.name, region: farm.region, country: farm.country };
}

export function toBatchDto(batch: CropBatch & { farm: Farm }): BatchDto {
  return {
    tokenId: Number(batch.tokenId),
    clientId: batch.clientId,
    cropType: batch.cropType,
    variety: batch.variety,
    quantity: batch.quantity.toNumber(),
    unit: batch.unit,
    harvestDate: isoDate(batch.harvestDate),
    farm: farmSummary(batch.farm),
    qualityScore: batch.qualityScore,
    metadata: batch.metadata as Record<string, unknown>,
    state: batch.currentState,
    stateName: stateName(batch.currentState),
    ownerAddress: checksum(batch.ownerAddress),
    custodianAddress: batch.custodianAddress ? checksum(batch.custodianAddress) : null,
    contentHash: batch.contentHash,
    gtin: batch.gtin,
    lot: batch.lot,
    chainStatus: batch.chainStatus,
    createdAt: batch.createdAt.toISOString(),
    updatedAt: batch.updatedAt.toISOString(),
  };
}

type TimelineEvent = Pick<
  BatchEvent,
  | "eventId"
  | "eventType"
  | "bizStep"
  | "disposition"
  | "toState"
  | "eventTimeZoneOffset"
  | "readPoint"
  | "actorAddress"
  | "eventHash"
> & {
  /** A Date from Prisma, or already the ISO string when SQL formatted it. */
  eventTime: Date | string;
};

export function toTimelineEntry(event: TimelineEvent): TimelineEntry {
  return {
    eventId: event.eventId,
    eventType: event.eventType,
    bizStep: event.bizStep,
    disposition: event.disposition,
    stateName: stateName(event.toState),
    eventTime: typeof event.eventTime === "string" ? event.eventTime : event.eventTime.toISOString(),
    eventTimeZoneOffset: event.eventTimeZoneOffset,
    readPoint: event.readPoint,
    actorAddress: checksum(event.actorAddress),
    eventHash: event.eventHash,
  };
}
