import { getAddress } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { POST as recordEvent } from "@/app/api/crop-batches/[tokenId]/events/route";
import { POST as createBatch } from "@/app/api/crop-batches/route";
import { GET as verify } from "@/app/api/verify/[tokenId]/route";
import { db } from "@/lib/db/client";
import { call, newBatch, type TestUser, userWithRole } from "@/tests/support/api";

describe("GET /api/verify/{tokenId}", () => {
  let farmer: TestUser;
  let farm: { id: number; name: string };
  // Distinctive coordinates, so finding them anywhere in a response means the farm's location leaked.
  const latitude = 51.987654;
  const longitude = 5.123456;

  beforeAll(async () => {
    farmer = await userWithRole("farmer");
    farm = await db.farm.create({
      data: { name: "Verify Farm", region: "Betuwe", country: "NL", latitude, longitude, ownerAddress: farmer.address },
    });
  });

  async function harvested(overrides: Record<string, unknown> = {}) {
    const body = newBatch(farm.id, { cropType: "Pear", variety: "Conference", quantity: 42.125, ...overrides });
    const response = await call(createBatch, {}, { method: "POST", body, cookie: farmer.cookie });
    expect(response.status).toBe(201);
    return {
      tokenId: response.body.tokenId as number,
      clientId: body.clientId,
      contentHash: response.body.contentHash as string,
    };
  }

  const check = (tokenId: number | string) =>
    call(verify, { tokenId: String(tokenId) }, { path: `/api/verify/${tokenId}` });

  it("answers a fresh batch as pending (not yet on chain) with its summary, timeline and proof, without location or client id", async () => {
    const batch = await harvested();
    const response = await check(batch.tokenId);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      tokenId: batch.tokenId,
      isValid: false,
      status: "pending",
      recallReason: null,
      batch: {
        cropType: "pear",
        variety: "Conference",
        quantity: 42.125,
        unit: "KGM",
        harvestDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
        qualityScore: 88,
        certifications: ["EU Organic"],
        organic: true,
        grade: "Class I",
        state: 0,
        stateName: "harvested",
        ownerAddress: getAddress(farmer.address),
        farm: { name: "Verify Farm", region: "Betuwe", country: "NL" },
      },
      timeline: [expect.objectContaining({ bizStep: "commissioning", disposition: "active", stateName: "harvested" })],
      photos: [],
      certificates: [],
      proof: {
        algorithm: "sha-256 over RFC 8785 canonical JSON",
        recordHash: batch.contentHash,
        computedHash: batch.contentHash,
        chain: {
          status: "pending",
          chainId: 31337,
          contract: null,
          tokenId: batch.tokenId,
          txHash: null,
          blockNumber: null,
          onChainHash: null,
          onChainOwner: null,
          onChainState: null,
        },
      },
    });
    const text = JSON.stringify(response.body);
    expect(text).not.toContain(String(latitude));
    expect(text).not.toContain(String(longitude));
    expect(text).not.toMatch(/latitude|longitude/i);
    expect(text).not.toContain(batch.clientId);
    expect(text).not.toContain("clientId");
  });

  it("shows where custody changed only to about 10 km, so a pick-up at the farm does not reveal it", async () => {
    const batch = await harvested();
    const shipped = await call(
      recordEvent,
      { tokenId: String(batch.tokenId) },
      {
        method: "POST",
        body: { action: "ship", location: { lat: latitude, lng: longitude } },
        cookie: farmer.cookie,
      },
    );
    expect(shipped.status).toBe(201);
    const response = await check(batch.tokenId);
    const shipping = response.body.timeline.find((entry: { bizStep: string }) => entry.bizStep === "shipping");
    expect(shipping.readPoint).toBe("geo:52.0,5.1");
    expect(JSON.stringify(response.body)).not.toContain("51.98");
  });

  it("reports a recall made after the answer was cached", async () => {
    const batch = await harvested();
    const before = await check(batch.tokenId);
    expect(before.body).toMatchObject({ isValid: false, status: "pending" });
    expect((await check(batch.tokenId)).body).toEqual(before.body);

    const recall = await call(
      recordEvent,
      { tokenId: String(batch.tokenId) },
      {
        method: "POST",
        body: { action: "recall", reason: "E. coli found in the washing water" },
        cookie: farmer.cookie,
      },
    );
    expect(recall.status).toBe(201);

    const after = await check(batch.tokenId);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({
      isValid: false,
      status: "recalled",
      recallReason: "E. coli found in the washing water",
      batch: { state: 5, stateName: "recalled" },
    });
    expect(after.body.timeline.map((e: { bizStep: string }) => e.bizStep)).toEqual(["commissioning", "holding"]);
    expect(after.body.proof.computedHash).toBe(after.body.proof.recordHash);
  });

  it("reports a row changed behind the API's back as tampered", async () => {
    const batch = await harvested();
    await db.$executeRaw`UPDATE crop_batches SET quality_score = 99 WHERE token_id = ${BigInt(batch.tokenId)}`;
    const response = await check(batch.tokenId);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ isValid: false, status: "tampered", batch: { qualityScore: 99 } });
    expect(response.body.proof.recordHash).toBe(batch.contentHash);
    expect(response.body.proof.computedHash).not.toBe(batch.contentHash);
  });

  it("reports tampered metadata too", async () => {
    const batch = await harvested();
    const id = BigInt(batch.tokenId);
    await db.$executeRaw`UPDATE crop_batches SET metadata = metadata || '{"organic": false}'::jsonb WHERE token_id = ${id}`;
    const response = await check(batch.tokenId);
    expect(response.body).toMatchObject({ isValid: false, status: "tampered", batch: { organic: false } });
  });

  it("answers 404 not_found for an unknown token", async () => {
    const response = await check("999999999999998");
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: { code: "not_found", message: expect.any(String) } });
  });

  it("answers 404 until the batch exists, then answers it (a miss is not cached)", async () => {
    const next =
      Number((await db.$queryRaw<{ id: bigint }[]>`SELECT max(token_id) AS id FROM crop_batches`)[0]?.id ?? 0n) + 1_000;
    await db.$executeRaw`SELECT setval(pg_get_serial_sequence('crop_batches', 'token_id'), ${next - 1})`;
    expect((await check(next)).status).toBe(404);
    const batch = await harvested();
    expect(batch.tokenId).toBe(next);
    const response = await check(next);
    expect(response.status).toBe(200);
    expect(response.body.status).toBe("pending");
  });

  it.each(["abc", "0", "-1", "1.5", "12345678901234567890"])("answers 400 for the token id %j", async (tokenId) => {
    const response = await check(tokenId);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: "bad_request", fields: [{ path: "tokenId" }] });
  });
});
