import { getAddress } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { POST as recordEvent } from "@/app/api/crop-batches/[tokenId]/events/route";
import { GET as getBatch } from "@/app/api/crop-batches/[tokenId]/route";
import { POST as createBatch } from "@/app/api/crop-batches/route";
import { db } from "@/lib/db/client";
import { call, farmOf, newBatch, type TestUser, userWithRole } from "@/tests/support/api";

describe("POST /api/crop-batches/{tokenId}/events", () => {
  let farmer: TestUser;
  let farmId: number;
  let transporter: TestUser;
  let buyer: TestUser;
  let inspector: TestUser;

  beforeAll(async () => {
    farmer = await userWithRole("farmer");
    farmId = (await farmOf(farmer.address)).id;
    transporter = await userWithRole("transporter");
    buyer = await userWithRole("buyer");
    inspector = await userWithRole("inspector");
  });

  async function harvested(): Promise<number> {
    const response = await call(createBatch, {}, { method: "POST", body: newBatch(farmId), cookie: farmer.cookie });
    expect(response.status).toBe(201);
    return response.body.tokenId;
  }

  const act = (tokenId: number | string, user: TestUser | null, body: unknown) =>
    call(
      recordEvent,
      { tokenId: String(tokenId) },
      {
        method: "POST",
        path: `/api/crop-batches/${tokenId}/events`,
        body,
        cookie: user?.cookie,
      },
    );

  const row = (tokenId: number) => db.cropBatch.findUniqueOrThrow({ where: { tokenId: BigInt(tokenId) } });
  const events = (tokenId: number) =>
    db.batchEvent.findMany({ where: { tokenId: BigInt(tokenId) }, orderBy: { id: "asc" } });

  async function expectUnchanged(tokenId: number, state: number, eventCount: number) {
    expect((await row(tokenId)).currentState).toBe(state);
    expect(await db.batchEvent.count({ where: { tokenId: BigInt(tokenId) } })).toBe(eventCount);
  }

  it("walks ship -> receive (custodian) -> sell -> consume, one event per step, shown in order", async () => {
    const tokenId = await harvested();

    const shipped = await act(tokenId, farmer, {
      action: "ship",
      transporter: transporter.address,
      location: { lat: 52.1, lng: 4.3 },
    });
    expect(shipped.status).toBe(201);
    expect(shipped.body).toMatchObject({
      tokenId,
      state: 1,
      stateName: "in_transit",
      ownerAddress: getAddress(farmer.address),
      custodianAddress: getAddress(transporter.address),
    });

    const received = await act(tokenId, transporter, { action: "receive" });
    expect(received.status).toBe(201);
    expect(received.body).toMatchObject({ state: 2, stateName: "stored", custodianAddress: null });

    const sold = await act(tokenId, farmer, { action: "sell", buyer: buyer.address.toUpperCase().replace("0X", "0x") });
    expect(sold.status).toBe(201);
    expect(sold.body).toMatchObject({ state: 3, stateName: "sold", ownerAddress: getAddress(buyer.address) });
    expect((await row(tokenId)).ownerAddress).toBe(buyer.address);

    const consumed = await act(tokenId, buyer, { action: "consume" });
    expect(consumed.status).toBe(201);
    expect(consumed.body).toMatchObject({ state: 4, stateName: "consumed" });

    const rows = await events(tokenId);
    expect(rows.map((e) => [e.bizStep, e.disposition, e.fromState, e.toState, e.actorAddress])).toEqual([
      ["commissioning", "active", null, 0, farmer.address],
      ["shipping", "in_transit", 0, 1, farmer.address],
      ["receiving", "sellable_accessible", 1, 2, transporter.address],
      ["retail_selling", "retail_sold", 2, 3, farmer.address],
      ["decommissioning", "inactive", 3, 4, buyer.address],
    ]);
    expect(rows[1]?.readPoint).toBe("geo:52.100000,4.300000");
    expect(rows[3]?.eventType).toBe("TransactionEvent");

    const detail = await call(getBatch, { tokenId: String(tokenId) });
    expect(detail.status).toBe(200);
    expect(detail.body.state).toBe(4);
    expect(detail.body.timeline.map((e: { bizStep: string; stateName: string }) => [e.bizStep, e.stateName])).toEqual([
      ["commissioning", "harvested"],
      ["shipping", "in_transit"],
      ["receiving", "stored"],
      ["retail_selling", "sold"],
      ["decommissioning", "consumed"],
    ]);
    expect(detail.body.timeline.map((e: { eventId: string }) => e.eventId)).toEqual(rows.map((e) => e.eventId));

    const jobs = await db.chainJob.findMany({ where: { tokenId: BigInt(tokenId) }, orderBy: { id: "asc" } });
    expect(jobs.map((job) => [job.kind, job.args])).toEqual([
      ["mint", expect.objectContaining({ owner: farmer.address })],
      ["ship", {}],
      ["receive", {}],
      ["sell", { buyer: buyer.address }],
      ["consume", {}],
    ]);
  });

  it("lets the owner sell straight from harvest and the former owner no longer act", async () => {
    const tokenId = await harvested();
    expect((await act(tokenId, farmer, { action: "sell", buyer: buyer.address })).status).toBe(201);
    const response = await act(tokenId, farmer, { action: "recall", reason: "second thoughts" });
    expect(response.status).toBe(403);
    await expectUnchanged(tokenId, 3, 2);
  });

  describe("illegal transitions answer 409 and change nothing", () => {
    it("consume a harvested batch", async () => {
      const tokenId = await harvested();
      const response = await act(tokenId, farmer, { action: "consume" });
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe("invalid_transition");
      await expectUnchanged(tokenId, 0, 1);
    });

    it("ship a sold batch (by its new owner)", async () => {
      const tokenId = await harvested();
      expect((await act(tokenId, farmer, { action: "sell", buyer: buyer.address })).status).toBe(201);
      const response = await act(tokenId, buyer, { action: "ship" });
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe("invalid_transition");
      await expectUnchanged(tokenId, 3, 2);
    });

    it("receive a harvested batch", async () => {
      const tokenId = await harvested();
      const response = await act(tokenId, farmer, { action: "receive" });
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe("invalid_transition");
      await expectUnchanged(tokenId, 0, 1);
    });

    it("ship a recalled batch", async () => {
      const tokenId = await harvested();
      expect((await act(tokenId, farmer, { action: "recall", reason: "listeria" })).status).toBe(201);
      const response = await act(tokenId, farmer, { action: "ship", transporter: transporter.address });
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe("invalid_transition");
      const batch = await row(tokenId);
      expect(batch.custodianAddress).toBeNull();
      await expectUnchanged(tokenId, 5, 2);
    });

    it("recall a batch twice", async () => {
      const tokenId = await harvested();
      expect((await act(tokenId, inspector, { action: "recall", reason: "pesticide residue" })).status).toBe(201);
      const response = await act(tokenId, inspector, { action: "recall", reason: "again" });
      expect(response.status).toBe(409);
      await expectUnchanged(tokenId, 5, 2);
    });
  });

  describe("who may act", () => {
    it("refuses another farmer with 403 and writes nothing", async () => {
      const other = await userWithRole("farmer");
      const tokenId = await harvested();
      const response = await act(tokenId, other, { action: "ship", transporter: other.address });
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe("forbidden");
      expect((await row(tokenId)).custodianAddress).toBeNull();
      await expectUnchanged(tokenId, 0, 1);
    });

    it("refuses a transporter who is not the custodian", async () => {
      const unrelated = await userWithRole("transporter");
      const tokenId = await harvested();
      expect((await act(tokenId, farmer, { action: "ship", transporter: transporter.address })).status).toBe(201);
      const response = await act(tokenId, unrelated, { action: "receive" });
      expect(response.status).toBe(403);
      await expectUnchanged(tokenId, 1, 2);
      expect((await row(tokenId)).custodianAddress).toBe(transporter.address);
    });

    it("lets an inspector inspect without changing the state, recording the result as disposition", async () => {
      const tokenId = await harvested();
      const ok = await act(tokenId, inspector, { action: "inspect", result: "conformant", qualityScore: 91 });
      const bad = await act(tokenId, inspector, { action: "inspect", result: "non_conformant", notes: "bruised" });
      expect(ok.status).toBe(201);
      expect(bad.status).toBe(201);
      expect(bad.body).toMatchObject({ state: 0, stateName: "harvested" });
      const rows = await events(tokenId);
      expect(rows.slice(1).map((e) => [e.bizStep, e.disposition, e.fromState, e.toState, e.actorAddress])).toEqual([
        ["inspecting", "conformant", 0, 0, inspector.address],
        ["inspecting", "non_conformant", 0, 0, inspector.address],
      ]);
      expect(rows[1]?.payload).toMatchObject({ "gl:qualityScore": 91 });
      expect(rows[2]?.payload).toMatchObject({ "gl:notes": "bruised" });
      expect((await row(tokenId)).qualityScore).toBe(88);
    });

    it("lets an inspector recall", async () => {
      const tokenId = await harvested();
      const response = await act(tokenId, inspector, { action: "recall", reason: "salmonella" });
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ state: 5, stateName: "recalled" });
      const last = (await events(tokenId)).at(-1);
      expect([last?.bizStep, last?.disposition, last?.fromState, last?.toState]).toEqual(["holding", "recalled", 0, 5]);
      expect(last?.payload).toMatchObject({ "gl:reason": "salmonella" });
    });

    it("refuses a farmer who tries to inspect, even their own batch", async () => {
      const tokenId = await harvested();
      const response = await act(tokenId, farmer, { action: "inspect", result: "conformant" });
      expect(response.status).toBe(403);
      await expectUnchanged(tokenId, 0, 1);
    });

    it("answers 401 without a session", async () => {
      const tokenId = await harvested();
      const response = await act(tokenId, null, { action: "recall", reason: "x" });
      expect(response.status).toBe(401);
      await expectUnchanged(tokenId, 0, 1);
    });
  });

  describe("input", () => {
    it("answers 404 for an unknown token", async () => {
      const response = await act("999999999999999", farmer, { action: "consume" });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe("not_found");
      const detail = await call(getBatch, { tokenId: "999999999999999" });
      expect(detail.status).toBe(404);
    });

    it.each(["abc", "0", "-1", "1.5", "12345678901234567890", "01"])(
      "answers 400 for the token id %j",
      async (tokenId) => {
        const response = await act(tokenId, farmer, { action: "consume" });
        expect(response.status).toBe(400);
        expect(response.body.error).toMatchObject({ code: "bad_request", fields: [{ path: "tokenId" }] });
        expect((await call(getBatch, { tokenId })).status).toBe(400);
      },
    );

    it("answers 400 with fields for an unknown field and writes nothing", async () => {
      const tokenId = await harvested();
      const response = await act(tokenId, farmer, {
        action: "ship",
        transporter: transporter.address,
        priority: "high",
      });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe("bad_request");
      expect(response.body.error.fields).toEqual([{ path: "(root)", message: expect.stringContaining("priority") }]);
      await expectUnchanged(tokenId, 0, 1);
    });

    it("answers 400 for an unknown action or a sale without a buyer", async () => {
      const tokenId = await harvested();
      expect((await act(tokenId, farmer, { action: "teleport" })).status).toBe(400);
      const noBuyer = await act(tokenId, farmer, { action: "sell" });
      expect(noBuyer.status).toBe(400);
      expect(noBuyer.body.error.fields).toEqual([{ path: "buyer", message: expect.any(String) }]);
      await expectUnchanged(tokenId, 0, 1);
    });

    it("answers 400 for an eventTime in the future", async () => {
      const tokenId = await harvested();
      const eventTime = new Date(Date.now() + 60 * 60 * 1000).toISOString();
      const response = await act(tokenId, farmer, { action: "ship", eventTime });
      expect(response.status).toBe(400);
      expect(response.body.error.fields).toEqual([{ path: "eventTime", message: "cannot be in the future" }]);
      await expectUnchanged(tokenId, 0, 1);
    });

    it("stores the eventTime and its offset as the field device reported them", async () => {
      const tokenId = await harvested();
      const when = new Date();
      const local = new Date(when.getTime() + 2 * 3_600_000).toISOString().replace("Z", "+02:00");
      const response = await act(tokenId, farmer, { action: "ship", eventTime: local, timeZoneOffset: "+02:00" });
      expect(response.status).toBe(201);
      const shipping = response.body.timeline.find((e: { bizStep: string }) => e.bizStep === "shipping");
      expect(shipping).toMatchObject({ eventTime: when.toISOString(), eventTimeZoneOffset: "+02:00" });
    });

    it("answers 400 for an event dated before the batch's last recorded event", async () => {
      const tokenId = await harvested();
      const response = await act(tokenId, farmer, { action: "ship", eventTime: "2026-01-02T10:00:00+02:00" });
      expect(response.status).toBe(400);
      expect(response.body.error.fields).toEqual([
        { path: "eventTime", message: expect.stringMatching(/^Must be at or after /) },
      ]);
      await expectUnchanged(tokenId, 0, 1);
    });
  });

  it("tells a shipment that lost the race that the batch moved on (409), even when stamped before the winner's", async () => {
    const tokenId = await harvested();
    const stampedFirst = new Date(Date.now() - 60_000).toISOString();
    expect((await act(tokenId, farmer, { action: "ship" })).status).toBe(201);
    const late = await act(tokenId, farmer, { action: "ship", eventTime: stampedFirst });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe("invalid_transition");
    await expectUnchanged(tokenId, 1, 2);
  });

  it("lets only one of 10 concurrent shipments with different transporters win", async () => {
    const tokenId = await harvested();
    const carriers = await Promise.all(Array.from({ length: 10 }, () => userWithRole("transporter")));
    const responses = await Promise.all(
      carriers.map((c) => act(tokenId, farmer, { action: "ship", transporter: c.address })),
    );
    const winners = responses.filter((r) => r.status === 201);
    expect(winners).toHaveLength(1);
    // The losers' statuses and bodies in one assertion, so a failure says what they were answered instead.
    const losers = responses.filter((r) => r.status !== 201).map((r) => [r.status, r.body.error?.code]);
    expect(losers).toEqual(Array(9).fill([409, expect.stringMatching(/^(conflict|invalid_transition)$/)]));
    const batch = await row(tokenId);
    expect(batch.custodianAddress && getAddress(batch.custodianAddress)).toBe(winners[0]?.body.custodianAddress);
    await expectUnchanged(tokenId, 1, 2);
  });

  it("lets only one of 10 concurrent sales to different buyers win", async () => {
    const tokenId = await harvested();
    const buyers = await Promise.all(Array.from({ length: 10 }, () => userWithRole("buyer")));
    const responses = await Promise.all(buyers.map((b) => act(tokenId, farmer, { action: "sell", buyer: b.address })));
    const winners = responses.filter((r) => r.status === 201);
    expect(winners).toHaveLength(1);
    // A loser that runs after the sale is no longer the owner (403); one racing it loses the compare-and-set (409).
    expect(responses.filter((r) => r.status === 403 || r.status === 409)).toHaveLength(9);
    const batch = await row(tokenId);
    expect(getAddress(batch.ownerAddress)).toBe(winners[0]?.body.ownerAddress);
    await expectUnchanged(tokenId, 3, 2);
  });

  it("records a retried identical inspection (same eventTime) once and answers 409 to the retry", async () => {
    const tokenId = await harvested();
    const body = { action: "inspect", result: "conformant", eventTime: new Date().toISOString() };
    expect((await act(tokenId, inspector, body)).status).toBe(201);
    const retry = await act(tokenId, inspector, body);
    expect(retry.status).toBe(409);
    expect(retry.body.error.code).toBe("conflict");
    await expectUnchanged(tokenId, 0, 2);
  });

  it("keeps batch_events append-only", async () => {
    const tokenId = await harvested();
    const id = BigInt(tokenId);
    await expect(db.$executeRaw`UPDATE batch_events SET disposition = 'forged' WHERE token_id = ${id}`).rejects.toThrow(
      /append-only/,
    );
    await expect(db.$executeRaw`DELETE FROM batch_events WHERE token_id = ${id}`).rejects.toThrow(/append-only/);
    expect((await events(tokenId)).map((e) => e.disposition)).toEqual(["active"]);
  });
});
