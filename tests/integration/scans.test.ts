import { beforeAll, describe, expect, it } from "vitest";
import { POST as createBatch } from "@/app/api/crop-batches/route";
import { db } from "@/lib/db/client";
import { getScanStatus } from "@/lib/scans/get-scan-status";
import { flushScans, recordScan } from "@/lib/scans/record-scan";
import { COPY_NETWORK_LIMIT } from "@/lib/scans/track-network";
import { call, farmOf, newBatch, type TestUser, userWithRole } from "@/tests/support/api";

describe("verification scans", () => {
  let farmer: TestUser;
  let farmId: number;

  beforeAll(async () => {
    farmer = await userWithRole("farmer");
    farmId = (await farmOf(farmer.address)).id;
  });

  async function harvested(): Promise<number> {
    const response = await call(createBatch, {}, { method: "POST", body: newBatch(farmId), cookie: farmer.cookie });
    expect(response.status).toBe(201);
    return response.body.tokenId as number;
  }

  const row = (tokenId: number) => db.verificationScan.findUnique({ where: { tokenId: BigInt(tokenId) } });

  it("writes buffered scans of many tokens in one flush and adds later flushes to the counts", async () => {
    const [first, second] = [await harvested(), await harvested()];
    for (let scan = 0; scan < 7; scan += 1) recordScan(first, "198.51.100.0/24");
    for (let scan = 0; scan < 3; scan += 1) recordScan(second, null);
    expect(await row(first)).toBeNull();

    await flushScans();
    expect(await row(first)).toMatchObject({ scanCount: 7n, flaggedAt: null });
    expect(await row(second)).toMatchObject({ scanCount: 3n, flaggedAt: null });

    recordScan(first, "198.51.100.0/24");
    await flushScans();
    expect((await row(first))?.scanCount).toBe(8n);
    expect(await getScanStatus(first)).toEqual({ scans: 8, flagged: false });
  });

  it("records when a label is flagged as a possible copy", async () => {
    const tokenId = await harvested();
    for (let network = 0; network <= COPY_NETWORK_LIMIT; network += 1) recordScan(tokenId, `203.0.${network}.0/24`);
    await flushScans();
    const flagged = await row(tokenId);
    expect(flagged?.flaggedAt).toBeInstanceOf(Date);
    expect(flagged?.flaggedNetworks).toBe(COPY_NETWORK_LIMIT + 1);
    expect(await getScanStatus(tokenId)).toEqual({ scans: COPY_NETWORK_LIMIT + 1, flagged: true });
  });

  it("skips token ids that are not batches instead of losing the others", async () => {
    const tokenId = await harvested();
    recordScan(999_999_999_999, null);
    recordScan(tokenId, null);
    await flushScans();
    expect((await row(tokenId))?.scanCount).toBe(1n);
    expect(await row(999_999_999_999)).toBeNull();
  });
});
