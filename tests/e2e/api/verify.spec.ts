import { type BatchWithTimeline, expectError, type TimelineEntry, verifiedOnChain } from "../support/api";
import { expect, test } from "../support/fixtures";

test.describe("GET /api/verify/{tokenId}", () => {
  test("a demo batch verifies: its record hash matches the recomputed one and the one on chain", async ({
    request,
  }) => {
    const response = await request.get("/api/verify/1");
    expect(response.status()).toBe(200);
    const verification = await verifiedOnChain(request, 1);
    expect(verification.isValid).toBe(true);
    expect(verification.tokenId).toBe(1);
    expect(verification.proof).toEqual({
      algorithm: "sha-256 over RFC 8785 canonical JSON",
      recordHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      computedHash: verification.proof.recordHash,
      chain: {
        status: expect.stringMatching(/^(confirmed|final)$/),
        chainId: 31337,
        contract: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
        tokenId: 1,
        txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
        blockNumber: expect.any(Number),
        onChainHash: verification.proof.recordHash,
        onChainOwner: verification.batch.ownerAddress,
        onChainState: verification.batch.state,
      },
    });
    expect(verification.timeline[0]?.bizStep).toBe("commissioning");
    expect(verification.timeline.at(-1)?.stateName).toBe(verification.batch.stateName);

    // The public scan and the batch API describe the same record.
    const batch = (await (await request.get("/api/crop-batches/1")).json()) as BatchWithTimeline;
    expect(batch.contentHash).toBe(verification.proof.recordHash);
    const withoutReadPoint = ({ readPoint: _readPoint, ...event }: TimelineEntry) => event;
    expect(verification.timeline.map(withoutReadPoint)).toEqual(batch.timeline.map(withoutReadPoint));
    for (const { readPoint } of verification.timeline)
      expect(readPoint ?? "none").toMatch(/^(none|geo:-?\d+\.\d,-?\d+\.\d)$/);
    expect(verification.batch).toEqual({
      cropType: batch.cropType,
      variety: batch.variety,
      quantity: batch.quantity,
      unit: batch.unit,
      harvestDate: batch.harvestDate,
      qualityScore: batch.qualityScore,
      certifications: (batch.metadata.certifications as string[] | undefined) ?? [],
      organic: (batch.metadata.organic as boolean | undefined) ?? null,
      grade: (batch.metadata.grade as string | undefined) ?? null,
      state: batch.state,
      stateName: batch.stateName,
      ownerAddress: batch.ownerAddress,
      farm: { name: batch.farm.name, region: batch.farm.region, country: batch.farm.country },
    });
  });

  test("an unknown token id is 404", async ({ request }) => {
    await expectError(await request.get("/api/verify/999999999"), 404, {
      code: "not_found",
      message: "No batch has token id 999999999. Check the code on the label.",
    });
    await expectError(await request.get("/api/crop-batches/999999999"), 404, {
      code: "not_found",
      message: "There is no batch with token id 999999999.",
    });
  });

  test("a token id that is not a number is 400", async ({ request }) => {
    const invalid = {
      code: "bad_request",
      message: "The request is invalid.",
      fields: [{ path: "tokenId", message: "must be a positive whole number" }],
    };
    await expectError(await request.get("/api/verify/abc"), 400, invalid);
    await expectError(await request.get("/api/crop-batches/abc"), 400, invalid);
  });
});
