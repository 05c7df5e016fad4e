import { randomUUID } from "node:crypto";
import {
  type BatchDto,
  type BatchWithTimeline,
  batchInput,
  createBatch,
  expectError,
  expectedContentHash,
  getBatch,
  searchAll,
  type Verification,
  verifiedOnChain,
} from "../support/api";
import { demoAddress } from "../support/auth";
import { expect, test } from "../support/fixtures";
import { E2E_CROP, FARMER_FARM_IDS } from "../support/server";

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// chainStatus and updatedAt move on their own while the relayer and indexer anchor a batch.
function stableFields({ chainStatus: _status, updatedAt: _updated, ...rest }: BatchWithTimeline) {
  return rest;
}

test("the farmer creates a batch on farm 1, reads it back and the verify endpoint proves it", async ({
  signedIn,
  request,
}) => {
  const farmer = await signedIn("farmer");
  const farmsResponse = await farmer.get("/api/farms");
  expect(farmsResponse.status()).toBe(200);
  const { farms } = (await farmsResponse.json()) as {
    farms: { id: number; name: string; region: string; country: string }[];
  };
  expect(farms.map((farm) => farm.id)).toEqual([...FARMER_FARM_IDS]);
  const farm1 = farms[0];
  if (!farm1) throw new Error("the farmer has no farm 1");

  const input = batchInput({ cropType: `  ${E2E_CROP.toUpperCase()} `, farmId: 1 });
  const response = await farmer.post("/api/crop-batches", { data: input });
  expect(response.status(), await response.text()).toBe(201);
  const created = (await response.json()) as BatchDto;
  expect(created).toEqual({
    tokenId: expect.any(Number),
    clientId: input.clientId,
    cropType: E2E_CROP,
    variety: input.variety,
    quantity: input.quantity,
    unit: input.unit,
    harvestDate: input.harvestDate,
    gtin: null,
    lot: null,
    farm: { id: 1, name: farm1.name, region: farm1.region, country: farm1.country },
    qualityScore: input.qualityScore,
    metadata: input.metadata,
    state: 0,
    stateName: "harvested",
    ownerAddress: demoAddress("farmer"),
    custodianAddress: null,
    contentHash: expectedContentHash(input),
    chainStatus: "pending",
    createdAt: expect.stringMatching(ISO_INSTANT),
    updatedAt: created.createdAt,
  });
  expect(created.tokenId).toBeGreaterThan(300);

  // Anyone may read a batch: the public request fixture carries no cookie.
  const read = await getBatch(request, created.tokenId);
  expect(read).toEqual({
    ...created,
    // The relayer and indexer may already have anchored it.
    chainStatus: expect.stringMatching(/^(pending|confirmed|final)$/),
    updatedAt: expect.stringMatching(ISO_INSTANT),
    timeline: [
      {
        eventId: expect.stringMatching(/^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/),
        eventType: "ObjectEvent",
        bizStep: "commissioning",
        disposition: "active",
        stateName: "harvested",
        eventTime: created.createdAt,
        eventTimeZoneOffset: "+00:00",
        readPoint: null,
        actorAddress: demoAddress("farmer"),
        eventHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    ],
  });

  const pending = await request.get(`/api/verify/${created.tokenId}`);
  expect(pending.status()).toBe(200);
  const startedAt = Date.now();
  const verification = await verifiedOnChain(request, created.tokenId);
  // The design's target: chain event to database within seconds on the embedded chain.
  expect(Date.now() - startedAt).toBeLessThan(15_000);
  expect(verification).toEqual({
    tokenId: created.tokenId,
    isValid: true,
    status: "verified",
    recallReason: null,
    batch: {
      cropType: E2E_CROP,
      variety: input.variety,
      quantity: input.quantity,
      unit: input.unit,
      harvestDate: input.harvestDate,
      qualityScore: input.qualityScore,
      certifications: input.metadata?.certifications,
      organic: true,
      grade: input.metadata?.grade,
      state: 0,
      stateName: "harvested",
      ownerAddress: demoAddress("farmer"),
      farm: { name: farm1.name, region: farm1.region, country: farm1.country },
    },
    timeline: read.timeline,
    photos: [],
    certificates: [],
    proof: {
      algorithm: "sha-256 over RFC 8785 canonical JSON",
      recordHash: created.contentHash,
      computedHash: created.contentHash,
      chain: {
        status: expect.stringMatching(/^(confirmed|final)$/),
        chainId: 31337,
        contract: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
        tokenId: created.tokenId,
        txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
        blockNumber: expect.any(Number),
        onChainHash: created.contentHash,
        onChainOwner: demoAddress("farmer"),
        onChainState: 0,
      },
    },
  });

  const listed = await searchAll(request, { cropType: E2E_CROP, farmId: 1 });
  expect(listed.filter((row) => row.tokenId === created.tokenId)).toHaveLength(1);
});

test("a retry with the same Idempotency-Key replays the first response and creates nothing", async ({
  signedIn,
  request,
}) => {
  const farmer = await signedIn("farmer");
  const before = (await searchAll(request, { cropType: E2E_CROP })).length;
  const input = batchInput();
  const key = `e2e-${randomUUID()}`;

  const first = await farmer.post("/api/crop-batches", { data: input, headers: { "Idempotency-Key": key } });
  expect(first.status(), await first.text()).toBe(201);
  expect(first.headers()["idempotent-replayed"]).toBeUndefined();
  const firstBody = (await first.json()) as BatchDto;

  const replay = await farmer.post("/api/crop-batches", { data: input, headers: { "Idempotency-Key": key } });
  expect(replay.status()).toBe(201);
  expect(replay.headers()["idempotent-replayed"]).toBe("true");
  expect(await replay.json()).toEqual(firstBody);

  await expectError(
    await farmer.post("/api/crop-batches", { data: { ...input, quantity: 99 }, headers: { "Idempotency-Key": key } }),
    422,
    { code: "idempotency_key_reused", message: "This Idempotency-Key was used with a different request." },
  );

  // Without a key the client id still deduplicates: the same record answers 200 with the first batch.
  const sameRecord = await farmer.post("/api/crop-batches", { data: input });
  expect(sameRecord.status()).toBe(200);
  expect(await sameRecord.json()).toEqual(firstBody);
  await expectError(await farmer.post("/api/crop-batches", { data: { ...input, quantity: 99 } }), 422, {
    code: "client_id_reused",
    message: "This batch id was already used for a different batch.",
    fields: [{ path: "clientId", message: `Already used on ${firstBody.createdAt.slice(0, 10)}` }],
  });

  expect((await searchAll(request, { cropType: E2E_CROP })).length).toBe(before + 1);
});

test("other users cannot ship the farmer's batch, and it stays as it was", async ({ signedIn, request }) => {
  const farmer = await signedIn("farmer");
  const batch = await createBatch(farmer);
  const before = await getBatch(request, batch.tokenId);

  for (const role of ["transporter", "buyer", "inspector"] as const) {
    const other = await signedIn(role);
    await expectError(
      await other.post(`/api/crop-batches/${batch.tokenId}/events`, {
        data: { action: "ship", transporter: demoAddress(role) },
      }),
      403,
      { code: "forbidden", message: "You may not ship this batch." },
    );
  }
  await expectError(
    await (await signedIn("transporter")).post(`/api/crop-batches/${batch.tokenId}/events`, {
      data: { action: "sell", buyer: demoAddress("transporter") },
    }),
    403,
    { code: "forbidden", message: "You may not sell this batch." },
  );

  const after = await getBatch(request, batch.tokenId);
  expect(stableFields(after)).toEqual(stableFields(before));
  expect(after.state).toBe(0);
  expect(after.timeline).toHaveLength(1);

  await expectError(await farmer.post("/api/crop-batches", { data: batchInput({ farmId: 6 }) }), 403, {
    code: "forbidden",
    message: "You can only log batches for your own farm.",
  });
});

test("ship then receive moves custody and the verification follows", async ({ signedIn, request }) => {
  const farmer = await signedIn("farmer");
  const transporter = await signedIn("transporter");
  const batch = await createBatch(farmer);
  // Read the verification first, so a stale cached answer would show after the events.
  const initial = (await (await request.get(`/api/verify/${batch.tokenId}`)).json()) as Verification;
  expect(initial.batch.stateName).toBe("harvested");

  // Just after the commissioning, written as local time two hours east of UTC.
  const shippedAt = new Date(Date.parse(batch.createdAt) + 1);
  const shippedAtLocal = `${new Date(shippedAt.getTime() + 2 * 3_600_000).toISOString().slice(0, 23)}+02:00`;
  const shipped = await farmer.post(`/api/crop-batches/${batch.tokenId}/events`, {
    data: {
      action: "ship",
      transporter: demoAddress("transporter").toLowerCase(),
      eventTime: shippedAtLocal,
      timeZoneOffset: "+02:00",
      notes: "cold chain 4°C",
    },
  });
  expect(shipped.status(), await shipped.text()).toBe(201);
  const inTransit = (await shipped.json()) as BatchWithTimeline;
  expect(inTransit).toMatchObject({ state: 1, stateName: "in_transit", custodianAddress: demoAddress("transporter") });
  expect(inTransit.timeline.at(-1)).toMatchObject({
    bizStep: "shipping",
    disposition: "in_transit",
    stateName: "in_transit",
    eventTime: shippedAt.toISOString(),
    eventTimeZoneOffset: "+02:00",
    actorAddress: demoAddress("farmer"),
  });
  expect(((await (await request.get(`/api/verify/${batch.tokenId}`)).json()) as Verification).batch.stateName).toBe(
    "in_transit",
  );

  const received = await transporter.post(`/api/crop-batches/${batch.tokenId}/events`, {
    data: { action: "receive", location: { lat: 52.1, lng: 4.3 } },
  });
  expect(received.status(), await received.text()).toBe(201);
  const stored = (await received.json()) as BatchWithTimeline;
  expect(stored).toMatchObject({
    state: 2,
    stateName: "stored",
    custodianAddress: null,
    ownerAddress: demoAddress("farmer"),
  });
  expect(
    stored.timeline.map(({ bizStep, disposition, stateName, readPoint, actorAddress }) => ({
      bizStep,
      disposition,
      stateName,
      readPoint,
      actorAddress,
    })),
  ).toEqual([
    {
      bizStep: "commissioning",
      disposition: "active",
      stateName: "harvested",
      readPoint: null,
      actorAddress: demoAddress("farmer"),
    },
    {
      bizStep: "shipping",
      disposition: "in_transit",
      stateName: "in_transit",
      readPoint: null,
      actorAddress: demoAddress("farmer"),
    },
    {
      bizStep: "receiving",
      disposition: "sellable_accessible",
      stateName: "stored",
      readPoint: "geo:52.100000,4.300000",
      actorAddress: demoAddress("transporter"),
    },
  ]);
  expect(stableFields(await getBatch(request, batch.tokenId))).toEqual(stableFields(stored));

  // Custody ended with the receipt: the transporter cannot act again, and nothing can be received twice.
  await expectError(
    await transporter.post(`/api/crop-batches/${batch.tokenId}/events`, { data: { action: "receive" } }),
    403,
    {
      code: "forbidden",
      message: "You may not receive this batch.",
    },
  );
  await expectError(
    await farmer.post(`/api/crop-batches/${batch.tokenId}/events`, { data: { action: "receive" } }),
    409,
    {
      code: "invalid_transition",
      message: "A batch that is stored cannot be received.",
    },
  );

  const verification = await verifiedOnChain(request, batch.tokenId, 2);
  expect(verification).toMatchObject({ isValid: true, status: "verified", batch: { state: 2, stateName: "stored" } });
  // The public scan shows where custody changed only to a tenth of a degree.
  expect(verification.timeline).toEqual(
    stored.timeline.map((event) => ({ ...event, readPoint: event.bizStep === "receiving" ? "geo:52.1,4.3" : null })),
  );
});

test("an event cannot be dated before the batch was commissioned", async ({ signedIn, request }) => {
  // The timeline is ordered by eventTime: a backdated event would precede the commissioning and the verification's
  // last entry would no longer describe the batch's state.
  const farmer = await signedIn("farmer");
  const batch = await createBatch(farmer);
  const backdated = new Date(Date.parse(batch.createdAt) - 3_600_000).toISOString();
  const response = await farmer.post(`/api/crop-batches/${batch.tokenId}/events`, {
    data: { action: "ship", eventTime: backdated },
  });
  expect(response.status(), await response.text()).toBe(400);
  expect(await response.json()).toMatchObject({ error: { code: "bad_request", fields: [{ path: "eventTime" }] } });
  const after = await getBatch(request, batch.tokenId);
  expect(after.state).toBe(0);
  expect(after.timeline.map((event) => event.bizStep)).toEqual(["commissioning"]);
});

test("a 70 KB body is refused with 400 before anything is written", async ({ signedIn, request }) => {
  const farmer = await signedIn("farmer");
  const before = (await searchAll(request, { cropType: E2E_CROP })).length;
  const tooLarge = {
    code: "bad_request",
    message: "The body is larger than 65536 bytes.",
    fields: [{ path: "(body)", message: "Larger than 65536 bytes" }],
  };
  const input = batchInput({ metadata: { notes: "n".repeat(70 * 1024) } });
  await expectError(await farmer.post("/api/crop-batches", { data: input }), 400, tooLarge);
  await expectError(
    await request.post("/api/crop-batches/search", { data: { q: "x".repeat(70 * 1024) } }),
    400,
    tooLarge,
  );
  expect((await searchAll(request, { cropType: E2E_CROP })).length).toBe(before);
});
