import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { POST as recordEvent } from "@/app/api/crop-batches/[tokenId]/events/route";
import { POST as createBatch } from "@/app/api/crop-batches/route";
import { checksum, isoDate, toTimelineEntry } from "@/lib/batches/batch-dto";
import { contentHash } from "@/lib/batches/content-hash";
import { RECALLED, stateName } from "@/lib/batches/lifecycle";
import { onBatchChanged } from "@/lib/batches/on-batch-changed";
import { db, dbRead, pools } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";
import { getVerification, type Verification } from "@/lib/verify/get-verification";
import { call, newBatch, type TestUser, userWithRole } from "@/tests/support/api";

// The Prisma loader that the single pg query replaced, kept here only as the oracle the new loader must match.
async function prismaVerification(tokenId: number): Promise<Verification | null> {
  const batch = await dbRead.cropBatch.findUnique({
    where: { tokenId: BigInt(tokenId) },
    include: { farm: true, events: { orderBy: [{ eventTime: "asc" }, { id: "asc" }] } },
  });
  if (!batch) return null;
  const metadata = batch.metadata as { certifications?: string[]; organic?: boolean; grade?: string };
  const computedHash = contentHash({
    clientId: batch.clientId,
    cropType: batch.cropType,
    variety: batch.variety,
    quantity: batch.quantity.toFixed(3),
    unit: batch.unit,
    harvestDate: isoDate(batch.harvestDate),
    farmId: batch.originFarm,
    qualityScore: batch.qualityScore,
    metadata: batch.metadata,
    ...(batch.gtin && batch.lot ? { gtin: batch.gtin, lot: batch.lot } : {}),
  });
  const intact = computedHash === batch.contentHash;
  const token = await dbRead.chainToken.findUnique({
    where: { chainId_tokenId: { chainId: env.chain.chainId, tokenId: batch.tokenId } },
  });
  const deployment = await dbRead.chainDeployment.findUnique({ where: { chainId: env.chain.chainId } });
  const contract = env.chain.contract ?? deployment?.contractAddress;
  const recalled = batch.currentState === RECALLED || token?.state === RECALLED;
  const agrees =
    token?.contentHash === batch.contentHash &&
    token.ownerAddress === batch.ownerAddress &&
    token.state === batch.currentState;
  const status = !intact ? "tampered" : recalled ? "recalled" : !token ? "pending" : agrees ? "verified" : "mismatch";
  const recall = batch.events.findLast((event) => event.toState === RECALLED);
  const reason = (recall?.payload as Record<string, unknown> | undefined)?.["gl:reason"];
  const coarsen = (readPoint: string | null) => {
    const match = readPoint?.match(/^geo:(-?[\d.]+),(-?[\d.]+)$/);
    return match ? `geo:${Number(match[1]).toFixed(1)},${Number(match[2]).toFixed(1)}` : null;
  };
  return {
    tokenId,
    isValid: status === "verified",
    status,
    recallReason: typeof reason === "string" ? reason : null,
    batch: {
      cropType: batch.cropType,
      variety: batch.variety,
      quantity: batch.quantity.toNumber(),
      unit: batch.unit,
      harvestDate: isoDate(batch.harvestDate),
      qualityScore: batch.qualityScore,
      certifications: metadata.certifications ?? [],
      organic: metadata.organic ?? null,
      grade: metadata.grade ?? null,
      state: batch.currentState,
      stateName: stateName(batch.currentState),
      ownerAddress: checksum(batch.ownerAddress),
      farm: { name: batch.farm.name, region: batch.farm.region, country: batch.farm.country },
    },
    timeline: batch.events.map((event) => ({ ...toTimelineEntry(event), readPoint: coarsen(event.readPoint) })),
    // These batches have no attachments: tests/integration/attachments.test.ts covers them.
    photos: [],
    certificates: [],
    proof: {
      algorithm: "sha-256 over RFC 8785 canonical JSON",
      recordHash: batch.contentHash,
      computedHash,
      chain: {
        status: batch.chainStatus,
        chainId: env.chain.chainId,
        contract: contract ? checksum(contract) : null,
        tokenId,
        txHash: token?.mintTxHash ?? null,
        blockNumber: token ? Number(token.mintBlock) : null,
        onChainHash: token?.contentHash ?? null,
        onChainOwner: token ? checksum(token.ownerAddress) : null,
        onChainState: token?.state ?? null,
      },
    },
  };
}

describe("the verification loader (one pg query per turn of the event loop)", () => {
  let farmer: TestUser;
  let farmId: number;

  beforeAll(async () => {
    farmer = await userWithRole("farmer");
    const farm = await db.farm.create({
      data: {
        name: "Loader Farm",
        region: "Zeeland",
        country: "NL",
        latitude: 51.49,
        longitude: 3.61,
        ownerAddress: farmer.address,
      },
    });
    farmId = farm.id;
  });

  async function harvested(overrides: Record<string, unknown> = {}): Promise<number> {
    const response = await call(
      createBatch,
      {},
      { method: "POST", body: newBatch(farmId, overrides), cookie: farmer.cookie },
    );
    expect(response.status).toBe(201);
    return response.body.tokenId as number;
  }

  async function act(tokenId: number, body: Record<string, unknown>) {
    const response = await call(
      recordEvent,
      { tokenId: String(tokenId) },
      { method: "POST", body, cookie: farmer.cookie },
    );
    expect(response.status).toBe(201);
  }

  async function onChain(tokenId: number, changes: { state?: number; contentHash?: string } = {}) {
    const batch = await db.cropBatch.findUniqueOrThrow({ where: { tokenId: BigInt(tokenId) } });
    await db.chainToken.create({
      data: {
        chainId: env.chain.chainId,
        tokenId: batch.tokenId,
        ownerAddress: batch.ownerAddress,
        state: changes.state ?? batch.currentState,
        contentHash: changes.contentHash ?? batch.contentHash,
        mintTxHash: `0x${randomBytes(32).toString("hex")}`,
        mintBlock: 9_007_199_254n,
        updatedBlock: 9_007_199_300n,
      },
    });
  }

  // Cold on purpose: the cached answer of an earlier read must not stand in for the loader's.
  async function expectSameAsPrisma(tokenId: number): Promise<Verification> {
    await onBatchChanged(tokenId);
    const loaded = await getVerification(tokenId);
    const expected = await prismaVerification(tokenId);
    expect(loaded).toEqual(expected);
    expect(JSON.stringify(loaded)).toBe(JSON.stringify(expected));
    return loaded;
  }

  it("matches for a fresh batch with certifications and an odd quantity", async () => {
    const tokenId = await harvested({ quantity: 12_345_678.125 });
    const loaded = await expectSameAsPrisma(tokenId);
    expect(loaded).toMatchObject({
      status: "pending",
      batch: { quantity: 12_345_678.125, certifications: ["EU Organic"] },
    });
  });

  it("matches for a batch without variety or metadata", async () => {
    const tokenId = await harvested({ variety: undefined, metadata: {}, quantity: 0.001 });
    const loaded = await expectSameAsPrisma(tokenId);
    expect(loaded.batch).toMatchObject({ variety: null, certifications: [], organic: null, grade: null });
  });

  it("matches for a batch with a GTIN and lot, on chain and agreeing", async () => {
    const tokenId = await harvested({ gtin: "4006381333931", lot: `L-${randomBytes(4).toString("hex")}` });
    await onChain(tokenId);
    const loaded = await expectSameAsPrisma(tokenId);
    expect(loaded).toMatchObject({
      status: "verified",
      isValid: true,
      proof: { chain: { blockNumber: 9_007_199_254 } },
    });
  });

  it("matches for a token the chain disagrees with", async () => {
    const tokenId = await harvested();
    await onChain(tokenId, { contentHash: "0".repeat(64) });
    expect((await expectSameAsPrisma(tokenId)).status).toBe("mismatch");
  });

  it("matches for events with read points and a recall with its reason, in timeline order", async () => {
    const tokenId = await harvested();
    await act(tokenId, { action: "ship", location: { lat: 51.987654, lng: 5.123456 } });
    await act(tokenId, { action: "recall", reason: "Listeria in the cold store" });
    const loaded = await expectSameAsPrisma(tokenId);
    expect(loaded).toMatchObject({ status: "recalled", recallReason: "Listeria in the cold store" });
    expect(loaded.timeline.map((entry) => [entry.bizStep, entry.readPoint])).toEqual([
      ["commissioning", null],
      ["shipping", "geo:52.0,5.1"],
      ["holding", null],
    ]);
    expect(loaded.timeline[1]?.eventTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it("matches for a record changed behind the API's back", async () => {
    const tokenId = await harvested({ gtin: "4006381333931", lot: `L-${randomBytes(4).toString("hex")}` });
    await db.$executeRaw`UPDATE crop_batches SET quantity = quantity + 1 WHERE token_id = ${BigInt(tokenId)}`;
    expect((await expectSameAsPrisma(tokenId)).status).toBe("tampered");
  });

  it("loads the tokens asked for in one turn with one query, each as it would load alone", async () => {
    const tokens = [
      await harvested(),
      await harvested({ variety: undefined, metadata: {} }),
      await harvested({ gtin: "4006381333931", lot: `L-${randomBytes(4).toString("hex")}` }),
    ];
    await onChain(tokens[2] as number);
    const unknown = 2 ** 40;
    await onBatchChanged(...tokens, unknown);
    const queries = vi.spyOn(pools.read, "query");
    try {
      const answers = await Promise.allSettled([...tokens, unknown].map((tokenId) => getVerification(tokenId)));
      // The contract's address may be looked up beside it (Prisma reads through the same pool).
      const batchQueries = queries.mock.calls.filter(([query]) => JSON.stringify(query).includes("FROM crop_batches"));
      expect(batchQueries).toHaveLength(1);
      const expected = await Promise.all(tokens.map((tokenId) => prismaVerification(tokenId)));
      expect(answers.slice(0, 3)).toEqual(expected.map((value) => ({ status: "fulfilled", value })));
      expect(answers[3]).toMatchObject({ status: "rejected", reason: { code: "not_found" } });
    } finally {
      queries.mockRestore();
    }
  });
});
