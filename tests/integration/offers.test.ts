import { getAddress } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { POST as recordEvent } from "@/app/api/crop-batches/[tokenId]/events/route";
import { POST as acceptOffer } from "@/app/api/crop-batches/[tokenId]/offers/[offerId]/accept/route";
import { POST as withdrawOffer } from "@/app/api/crop-batches/[tokenId]/offers/[offerId]/withdraw/route";
import { GET as listOffers, POST as makeOffer } from "@/app/api/crop-batches/[tokenId]/offers/route";
import { POST as createBatch } from "@/app/api/crop-batches/route";
import { db } from "@/lib/db/client";
import { call, farmOf, newBatch, type TestUser, userWithRole } from "@/tests/support/api";

describe("purchase offers: /api/crop-batches/{tokenId}/offers", () => {
  let farmer: TestUser;
  let farmId: number;
  let buyerA: TestUser;
  let buyerB: TestUser;
  let transporter: TestUser;

  beforeAll(async () => {
    farmer = await userWithRole("farmer");
    farmId = (await farmOf(farmer.address)).id;
    buyerA = await userWithRole("buyer");
    buyerB = await userWithRole("buyer");
    transporter = await userWithRole("transporter");
  });

  async function harvested(): Promise<number> {
    const response = await call(createBatch, {}, { method: "POST", body: newBatch(farmId), cookie: farmer.cookie });
    expect(response.status).toBe(201);
    return response.body.tokenId;
  }

  const offer = (tokenId: number | string, user: TestUser | null, body: unknown = {}) =>
    call(makeOffer, { tokenId: String(tokenId) }, { method: "POST", body, cookie: user?.cookie });
  const list = (tokenId: number, user: TestUser | null) =>
    call(listOffers, { tokenId: String(tokenId) }, { cookie: user?.cookie });
  const decide = (handler: typeof acceptOffer, tokenId: number, offerId: number | string, user: TestUser | null) =>
    call(handler, { tokenId: String(tokenId), offerId: String(offerId) }, { method: "POST", cookie: user?.cookie });
  const accept = (tokenId: number, offerId: number | string, user: TestUser | null) =>
    decide(acceptOffer, tokenId, offerId, user);
  const withdraw = (tokenId: number, offerId: number | string, user: TestUser | null) =>
    decide(withdrawOffer, tokenId, offerId, user);
  const act = (tokenId: number, user: TestUser, body: unknown) =>
    call(recordEvent, { tokenId: String(tokenId) }, { method: "POST", body, cookie: user.cookie });

  const offerCount = (tokenId: number) => db.purchaseOffer.count({ where: { tokenId: BigInt(tokenId) } });
  const statusOf = async (offerId: number) =>
    (await db.purchaseOffer.findUniqueOrThrow({ where: { id: BigInt(offerId) } })).status;
  const sales = (tokenId: number) =>
    Promise.all([
      db.batchEvent.count({ where: { tokenId: BigInt(tokenId), bizStep: "retail_selling" } }),
      db.chainJob.findMany({ where: { tokenId: BigInt(tokenId), kind: "sell" } }),
    ]);

  it("walks offer -> duplicate -> lists -> accept: the buyer owns the sold batch and the other offer is rejected", async () => {
    const tokenId = await harvested();

    const a = await offer(tokenId, buyerA, { note: "  Can collect on Friday.  " });
    expect(a.status).toBe(201);
    expect(a.body).toEqual({
      id: expect.any(Number),
      tokenId,
      buyerAddress: getAddress(buyerA.address),
      status: "open",
      note: "Can collect on Friday.",
      createdAt: expect.any(String),
      decidedAt: null,
    });
    const again = await offer(tokenId, buyerA, { note: "a different note" });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(a.body);
    const b = await offer(tokenId, buyerB);
    expect(b.status).toBe(201);
    expect(b.body).toMatchObject({ buyerAddress: getAddress(buyerB.address), status: "open", note: null });
    expect(await offerCount(tokenId)).toBe(2);

    const ownerView = await list(tokenId, farmer);
    expect(ownerView.status).toBe(200);
    expect(ownerView.body).toEqual([b.body, a.body]);
    expect((await list(tokenId, buyerA)).body).toEqual([a.body]);
    expect((await list(tokenId, transporter)).body).toEqual([]);

    const sold = await accept(tokenId, a.body.id, farmer);
    expect(sold.status).toBe(201);
    expect(sold.body).toMatchObject({
      tokenId,
      state: 3,
      stateName: "sold",
      ownerAddress: getAddress(buyerA.address),
      custodianAddress: null,
    });
    expect(sold.body.timeline.map((entry: { bizStep: string }) => entry.bizStep)).toEqual([
      "commissioning",
      "retail_selling",
    ]);
    const batch = await db.cropBatch.findUniqueOrThrow({ where: { tokenId: BigInt(tokenId) } });
    expect([batch.ownerAddress, batch.currentState]).toEqual([buyerA.address, 3]);
    const [sellEvents, sellJobs] = await sales(tokenId);
    expect(sellEvents).toBe(1);
    expect(sellJobs.map((job) => job.args)).toEqual([{ buyer: buyerA.address }]);

    // The new owner sees every offer on the batch; the former owner now sees only their own (none).
    const rejected = { ...b.body, status: "rejected", decidedAt: expect.any(String) };
    expect((await list(tokenId, buyerA)).body).toEqual([
      rejected,
      { ...a.body, status: "accepted", decidedAt: expect.any(String) },
    ]);
    expect((await list(tokenId, buyerB)).body).toEqual([rejected]);
    expect((await list(tokenId, farmer)).body).toEqual([]);
    const rows = await db.purchaseOffer.findMany({ where: { tokenId: BigInt(tokenId) } });
    expect(rows.every((row) => row.decidedAt instanceof Date)).toBe(true);
  });

  it("refuses offers on unknown, unlisted and own batches, from other roles and signed-out callers", async () => {
    const tokenId = await harvested();
    const shipped = await harvested();
    expect((await act(shipped, farmer, { action: "ship" })).status).toBe(201);
    const cases: [string, Awaited<ReturnType<typeof offer>>, number, string, RegExp][] = [
      ["signed out", await offer(tokenId, null), 401, "unauthorized", /Sign in/],
      ["a farmer", await offer(tokenId, farmer), 403, "forbidden", /buyer/],
      ["a transporter", await offer(tokenId, transporter), 403, "forbidden", /buyer/],
      ["an unknown batch", await offer(999_999_999, buyerA), 404, "not_found", /999999999/],
      ["a shipped batch", await offer(shipped, buyerA), 409, "conflict", /in transit: only harvested or stored/],
      ["an unknown field", await offer(tokenId, buyerA, { price: 10 }), 400, "bad_request", /invalid/],
      ["a long note", await offer(tokenId, buyerA, { note: "x".repeat(501) }), 400, "bad_request", /invalid/],
      ["a bad token id", await offer("abc", buyerA), 400, "bad_request", /invalid/],
    ];
    for (const [name, response, status, code, message] of cases) {
      expect([name, response.status, response.body.error.code], name).toEqual([name, status, code]);
      expect(response.body.error.message, name).toMatch(message);
    }

    expect((await act(tokenId, farmer, { action: "sell", buyer: buyerB.address })).status).toBe(201);
    const own = await offer(tokenId, buyerB);
    expect([own.status, own.body.error]).toEqual([409, { code: "conflict", message: "You already own this batch." }]);
    const sold = await offer(tokenId, buyerA);
    expect([sold.status, sold.body.error.code]).toEqual([409, "conflict"]);
    expect(await offerCount(tokenId)).toBe(0);
    expect(await offerCount(shipped)).toBe(0);

    expect((await list(tokenId, null)).status).toBe(401);
    expect((await list(999_999_999, buyerA)).status).toBe(404);
  });

  it("refuses accepts from others, of unknown or decided offers, and closes open offers when the batch ships", async () => {
    const tokenId = await harvested();
    const other = await harvested();
    const a = (await offer(tokenId, buyerA)).body;
    const elsewhere = (await offer(other, buyerA)).body;

    const refusals: [string, Awaited<ReturnType<typeof accept>>, number, string][] = [
      ["signed out", await accept(tokenId, a.id, null), 401, "unauthorized"],
      ["the buyer", await accept(tokenId, a.id, buyerA), 403, "forbidden"],
      ["another buyer", await accept(tokenId, a.id, buyerB), 403, "forbidden"],
      ["an unknown offer", await accept(tokenId, 999_999_999, farmer), 404, "not_found"],
      ["another batch's offer", await accept(tokenId, elsewhere.id, farmer), 404, "not_found"],
      ["an unknown batch", await accept(999_999_999, a.id, farmer), 404, "not_found"],
      ["a bad offer id", await accept(tokenId, "0", farmer), 400, "bad_request"],
    ];
    for (const [name, response, status, code] of refusals) {
      expect([name, response.status, response.body.error.code], name).toEqual([name, status, code]);
    }

    expect((await act(tokenId, farmer, { action: "ship" })).status).toBe(201);
    expect(await statusOf(a.id)).toBe("rejected");
    expect(await statusOf(elsewhere.id)).toBe("open");
    const shipped = await accept(tokenId, a.id, farmer);
    expect(shipped.status).toBe(409);
    expect(shipped.body.error).toEqual({ code: "conflict", message: "This offer is already rejected." });
    const late = await offer(tokenId, buyerB);
    expect([late.status, late.body.error.code]).toEqual([409, "conflict"]);
    const [sellEvents, sellJobs] = await sales(tokenId);
    expect([sellEvents, sellJobs.length]).toEqual([0, 0]);
    const batch = await db.cropBatch.findUniqueOrThrow({ where: { tokenId: BigInt(tokenId) } });
    expect([batch.ownerAddress, batch.currentState]).toEqual([farmer.address, 1]);
  });

  it("lets the buyer withdraw an open offer, once, and then offer again", async () => {
    const tokenId = await harvested();
    const a = (await offer(tokenId, buyerA)).body;

    expect((await withdraw(tokenId, a.id, buyerB)).status).toBe(403);
    expect((await withdraw(tokenId, a.id, farmer)).status).toBe(403);
    expect((await withdraw(tokenId, 999_999_999, buyerA)).status).toBe(404);
    expect(await statusOf(a.id)).toBe("open");

    const withdrawn = await withdraw(tokenId, a.id, buyerA);
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body).toEqual({ ...a, status: "withdrawn", decidedAt: expect.any(String) });
    const twice = await withdraw(tokenId, a.id, buyerA);
    expect([twice.status, twice.body.error.code]).toEqual([409, "conflict"]);

    const accepted = await accept(tokenId, a.id, farmer);
    expect([accepted.status, accepted.body.error]).toEqual([
      409,
      { code: "conflict", message: "This offer is already withdrawn." },
    ]);
    expect((await db.cropBatch.findUniqueOrThrow({ where: { tokenId: BigInt(tokenId) } })).currentState).toBe(0);

    const fresh = await offer(tokenId, buyerA);
    expect(fresh.status).toBe(201);
    expect(fresh.body.id).not.toBe(a.id);
    expect((await list(tokenId, buyerA)).body.map((o: { status: string }) => o.status)).toEqual(["open", "withdrawn"]);
  });

  it("makes one open offer from 10 concurrent identical offers", async () => {
    const tokenId = await harvested();
    const responses = await Promise.all(Array.from({ length: 10 }, () => offer(tokenId, buyerA)));
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(9);
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect(await offerCount(tokenId)).toBe(1);
  });

  it("lets exactly one of 10 concurrent accepts of two offers win: one sale, one sell job", async () => {
    const tokenId = await harvested();
    const a = (await offer(tokenId, buyerA)).body;
    const b = (await offer(tokenId, buyerB)).body;
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, index) => accept(tokenId, (index % 2 ? a : b).id, farmer)),
    );
    const winners = responses.filter((r) => r.status === 201);
    expect(winners).toHaveLength(1);
    // A loser that runs after the sale is no longer the owner (403); one racing it loses a compare-and-set (409).
    expect(responses.filter((r) => r.status === 403 || r.status === 409)).toHaveLength(9);
    const buyer = winners[0]?.body.ownerAddress === getAddress(buyerA.address) ? buyerA : buyerB;
    const [winner, loser] = buyer === buyerA ? [a, b] : [b, a];
    expect([await statusOf(winner.id), await statusOf(loser.id)]).toEqual(["accepted", "rejected"]);
    const [sellEvents, sellJobs] = await sales(tokenId);
    expect(sellEvents).toBe(1);
    expect(sellJobs.map((job) => job.args)).toEqual([{ buyer: buyer.address }]);
    expect((await db.cropBatch.findUniqueOrThrow({ where: { tokenId: BigInt(tokenId) } })).ownerAddress).toBe(
      buyer.address,
    );
  });
});
