import canonicalize from "canonicalize";
import { sha256Hex } from "@/lib/batches/content-hash";
import type { BatchAction } from "@/lib/batches/lifecycle";

const CONTEXT = [
  "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
  { gl: "https://greenledger.example/voc/" },
];

type Step = { type: "ObjectEvent" | "TransactionEvent"; action: "ADD" | "OBSERVE" | "DELETE"; bizStep: string };

// CBV 2.0 mapping from ../shared/STANDARDS.md (there is no "harvesting" bizStep: commissioning covers it).
// A certificate attached to a batch is observed in an inspecting step that carries its certificationInfo.
const STEPS: Record<BatchAction | "create" | "certify", Step> = {
  create: { type: "ObjectEvent", action: "ADD", bizStep: "commissioning" },
  ship: { type: "ObjectEvent", action: "OBSERVE", bizStep: "shipping" },
  receive: { type: "ObjectEvent", action: "OBSERVE", bizStep: "receiving" },
  sell: { type: "TransactionEvent", action: "ADD", bizStep: "retail_selling" },
  consume: { type: "ObjectEvent", action: "DELETE", bizStep: "decommissioning" },
  recall: { type: "ObjectEvent", action: "OBSERVE", bizStep: "holding" },
  inspect: { type: "ObjectEvent", action: "OBSERVE", bizStep: "inspecting" },
  certify: { type: "ObjectEvent", action: "OBSERVE", bizStep: "inspecting" },
};

export function batchEpc(tokenId: number | bigint): string {
  return `urn:greenledger:batch:${tokenId}`;
}

export type EpcisInput = {
  kind: BatchAction | "create" | "certify";
  tokenId: number | bigint;
  disposition: string;
  eventTime: Date;
  timeZoneOffset: string;
  readPoint?: { lat: number; lng: number };
  bizLocation?: string;
  actor: string;
  quantity?: { value: number; uom: string };
  extensions?: Record<string, unknown>;
};

export type EpcisEvent = {
  eventId: string;
  eventHash: string;
  eventType: Step["type"];
  action: Step["action"];
  bizStep: string;
  readPoint: string | null;
  document: Record<string, unknown>;
};

export function geoUri(point: { lat: number; lng: number }): string {
  return `geo:${point.lat.toFixed(6)},${point.lng.toFixed(6)}`;
}

/** Builds an EPCIS 2.0 JSON-LD event; its id is the SHA-256 of its canonical JSON as an `ni:` URI. */
/**
 * The SHA-256 of an event's canonical JSON (RFC 8785) without its `@context` and `eventID` (the id is made from this
 * hash): what batch_events.event_hash keeps and the chain anchors. Given a stored document, it is computed again.
 */
export function eventHashOf(document: Record<string, unknown>): string {
  const { "@context": _context, eventID: _id, ...body } = document;
  const canonical = canonicalize(body);
  if (canonical === undefined) throw new Error("EPCIS event cannot be canonicalized");
  return sha256Hex(canonical);
}

export function buildEpcisEvent(input: EpcisInput): EpcisEvent {
  const step = STEPS[input.kind];
  const epc = batchEpc(input.tokenId);
  const readPoint = input.readPoint ? geoUri(input.readPoint) : null;
  const body: Record<string, unknown> = {
    type: step.type,
    action: step.action,
    eventTime: input.eventTime.toISOString(),
    eventTimeZoneOffset: input.timeZoneOffset,
    bizStep: step.bizStep,
    disposition: input.disposition,
    ...(input.quantity
      ? { quantityList: [{ epcClass: epc, quantity: input.quantity.value, uom: input.quantity.uom }] }
      : { epcList: [epc] }),
    ...(readPoint ? { readPoint: { id: readPoint } } : {}),
    ...(input.bizLocation ? { bizLocation: { id: input.bizLocation } } : {}),
    ...(step.type === "TransactionEvent"
      ? {
          bizTransactionList: [
            { type: "po", bizTransaction: `urn:greenledger:sale:${input.tokenId}:${input.eventTime.getTime()}` },
          ],
        }
      : {}),
    "gl:actor": input.actor,
    ...input.extensions,
  };
  const eventHash = eventHashOf(body);
  const eventId = `ni:///sha-256;${eventHash}?ver=CBV2.0`;
  return {
    eventId,
    eventHash,
    eventType: step.type,
    action: step.action,
    bizStep: step.bizStep,
    readPoint,
    document: { "@context": CONTEXT, eventID: eventId, ...body },
  };
}
