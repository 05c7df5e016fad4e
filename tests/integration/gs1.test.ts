import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { POST as createBatch } from "@/app/api/crop-batches/route";
import { contentHash } from "@/lib/batches/content-hash";
import { db } from "@/lib/db/client";
import { findTokenByGs1 } from "@/lib/verify/find-token-by-gs1";
import { getVerification } from "@/lib/verify/get-verification";
import { call, farmOf, newBatch, type TestUser, userWithRole } from "@/tests/support/api";

describe("GS1 keys (gtin + lot) on batches", () => {
  let farmer: TestUser;
  let farmId: number;

  beforeAll(async () => {
    farmer = await userWithRole("farmer");
    farmId = (await farmOf(farmer.address)).id;
  });

  const post = (overrides: Record<string, unknown>) =>
    call(createBatch, {}, { method: "POST", body: newBatch(farmId, overrides), cookie: farmer.cookie });
  const lot = () => `L-${randomBytes(4).toString("hex")}`;

  it("stores the GTIN as GTIN-14 with the lot, hashes them with the record and resolves either GTIN form", async () => {
    const batchLot = lot();
    const response = await post({ gtin: "4006381333931", lot: batchLot });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ gtin: "04006381333931", lot: batchLot });
    const tokenId = response.body.tokenId as number;
    expect(await findTokenByGs1("4006381333931", batchLot)).toBe(tokenId);
    expect(await findTokenByGs1("04006381333931", batchLot)).toBe(tokenId);
    expect(await findTokenByGs1("04006381333931", "other")).toBeNull();
    expect(await findTokenByGs1("4006381333932", batchLot)).toBeNull();
    expect(await getVerification(tokenId)).toMatchObject({ status: "pending" });

    const row = await db.cropBatch.findUniqueOrThrow({ where: { tokenId: BigInt(tokenId) } });
    const withoutKeys = contentHash({
      clientId: row.clientId,
      cropType: row.cropType,
      variety: row.variety,
      quantity: row.quantity.toFixed(3),
      unit: row.unit,
      harvestDate: row.harvestDate.toISOString().slice(0, 10),
      farmId: row.originFarm,
      qualityScore: row.qualityScore,
      metadata: row.metadata,
    });
    expect(row.contentHash).not.toBe(withoutKeys);
  });

  it("leaves batches without GS1 keys with null keys", async () => {
    const response = await post({});
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ gtin: null, lot: null });
  });

  it.each([
    [{ gtin: "4006381333932", lot: "A1" }, "gtin"],
    [{ gtin: "400638133393", lot: "A1" }, "gtin"],
    [{ gtin: "4006381333931" }, "lot"],
    [{ lot: "A1" }, "lot"],
    [{ gtin: "96385074", lot: "with space" }, "lot"],
    [{ gtin: "96385074", lot: "x".repeat(21) }, "lot"],
  ])("refuses %j with 400 on %s", async (keys, field) => {
    const response = await post(keys);
    expect(response.status).toBe(400);
    expect(response.body.error.fields).toEqual(expect.arrayContaining([expect.objectContaining({ path: field })]));
  });

  it("refuses a second batch with the same GTIN and lot with 409", async () => {
    const batchLot = lot();
    expect((await post({ gtin: "96385074", lot: batchLot })).status).toBe(201);
    const again = await post({ gtin: "00000096385074", lot: batchLot });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "conflict", fields: [{ path: "lot" }] });
  });
});
