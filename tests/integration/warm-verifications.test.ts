import { beforeAll, describe, expect, it } from "vitest";
import { POST as createBatch } from "@/app/api/crop-batches/route";
import { verificationKey } from "@/lib/batches/on-batch-changed";
import { invalidateAll, peek } from "@/lib/cache/tiered-cache";
import { db } from "@/lib/db/client";
import { flushScans, recordScan } from "@/lib/scans/record-scan";
import { warmVerifications } from "@/lib/verify/warm-verifications";
import { call, farmOf, newBatch, type TestUser, userWithRole } from "@/tests/support/api";

describe("cache warm-up on start", () => {
  let farmer: TestUser;
  const tokens: number[] = [];

  beforeAll(async () => {
    farmer = await userWithRole("farmer");
    const farm = await farmOf(farmer.address);
    for (let index = 0; index < 3; index += 1) {
      const response = await call(createBatch, {}, { method: "POST", body: newBatch(farm.id), cookie: farmer.cookie });
      tokens.push(response.body.tokenId as number);
    }
  });

  it("loads the most-scanned tokens' verifications into the cache, hottest first, and reports how many and how long", async () => {
    const [hottest, warm, cold] = tokens as [number, number, number];
    // Far more scans than any other test records, so these two are the hottest in the shared database.
    for (let scan = 0; scan < 100_000; scan += 1) recordScan(hottest, null);
    for (let scan = 0; scan < 90_000; scan += 1) recordScan(warm, null);
    await flushScans();
    await invalidateAll({ keys: tokens.map(verificationKey) });
    expect(await db.verificationScan.count({ where: { tokenId: { in: tokens.map(BigInt) } } })).toBe(2);

    const result = await warmVerifications(2);
    expect(result.entries).toBe(2);
    expect(result.seconds).toBeGreaterThan(0);
    expect(peek<{ tokenId: number }>(verificationKey(hottest))?.tokenId).toBe(hottest);
    expect(peek<{ tokenId: number }>(verificationKey(warm))?.tokenId).toBe(warm);
    expect(peek(verificationKey(cold))).toBeUndefined();
  });
});
