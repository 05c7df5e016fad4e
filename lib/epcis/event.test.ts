import { describe, expect, it } from "vitest";
import { buildEpcisEvent } from "@/lib/epcis/event";

const base = {
  kind: "ship" as const,
  tokenId: 42,
  disposition: "in_transit",
  eventTime: new Date("2026-11-01T08:30:00Z"),
  timeZoneOffset: "+01:00",
  readPoint: { lat: 42.698334, lng: 23.319941 },
  actor: "0x1111111111111111111111111111111111111111",
};

describe("buildEpcisEvent", () => {
  it("maps a shipment to an EPCIS ObjectEvent with a geo read point", () => {
    const event = buildEpcisEvent(base);
    expect(event.document).toMatchObject({
      type: "ObjectEvent",
      action: "OBSERVE",
      bizStep: "shipping",
      disposition: "in_transit",
      eventTimeZoneOffset: "+01:00",
      epcList: ["urn:greenledger:batch:42"],
      readPoint: { id: "geo:42.698334,23.319941" },
    });
    expect(event.eventId).toBe(`ni:///sha-256;${event.eventHash}?ver=CBV2.0`);
  });

  it("gives the same event the same id and a different event a different id", () => {
    expect(buildEpcisEvent(base).eventId).toBe(buildEpcisEvent({ ...base }).eventId);
    expect(buildEpcisEvent({ ...base, eventTime: new Date("2026-11-01T08:31:00Z") }).eventId).not.toBe(
      buildEpcisEvent(base).eventId,
    );
  });

  it("commissions a harvest with a quantity list and a sale as a transaction event", () => {
    const created = buildEpcisEvent({
      ...base,
      kind: "create",
      disposition: "active",
      quantity: { value: 10, uom: "KGM" },
    });
    expect(created.document).toMatchObject({ action: "ADD", bizStep: "commissioning" });
    expect(created.document.quantityList).toEqual([{ epcClass: "urn:greenledger:batch:42", quantity: 10, uom: "KGM" }]);
    const sale = buildEpcisEvent({ ...base, kind: "sell", disposition: "retail_sold" });
    expect(sale.eventType).toBe("TransactionEvent");
    expect(sale.document.bizTransactionList).toHaveLength(1);
  });
});
