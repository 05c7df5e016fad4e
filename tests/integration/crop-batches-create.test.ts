import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { POST as recordEvent } from "@/app/api/crop-batches/[tokenId]/events/route";
import { POST as createBatch } from "@/app/api/crop-batches/route";
import { POST as search } from "@/app/api/crop-batches/search/route";
import { db } from "@/lib/db/client";
import { call, farmOf, newBatch, type TestUser, userWithRole } from "@/tests/support/api";

describe("POST /api/crop-batches", () => {
  let farmer: TestUser;
  let farmId: number;

  beforeAll(async () => {
    farmer = await userWithRole("farmer");
    farmId = (await farmOf(farmer.address)).id;
  });

  const post = (body: unknown, headers: Record<string, string> = {}, cookie: string | null = farmer.cookie) =>
    call(createBatch, {}, { method: "POST", path: "/api/crop-batches", body, headers, cookie: cookie ?? undefined });

  const rowsFor = (clientId: string) => db.cropBatch.count({ where: { clientId } });

  it("creates a batch with a server-assigned token id, its hash and a commissioning event", async () => {
    const input = newBatch(farmId);
    const response = await post(input);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      clientId: input.clientId,
      cropType: "tomato",
      quantity: 120.5,
      state: 0,
      stateName: "harvested",
      chainStatus: "pending",
      farm: { id: farmId },
    });
    expect(response.body.tokenId).toBeGreaterThan(0);
    expect(response.body.contentHash).toMatch(/^[0-9a-f]{64}$/);
    const events = await db.batchEvent.findMany({ where: { tokenId: BigInt(response.body.tokenId) } });
    expect(events.map((event) => [event.bizStep, event.disposition])).toEqual([["commissioning", "active"]]);
    const jobs = await db.chainJob.findMany({ where: { tokenId: BigInt(response.body.tokenId) } });
    expect(jobs.map((job) => [job.kind, job.status, job.args])).toEqual([
      ["mint", "queued", { owner: farmer.address, contentHash: response.body.contentHash }],
    ]);
  });

  it("makes exactly one row from 50 concurrent identical posts with one Idempotency-Key, and answers all 50", async () => {
    const input = newBatch(farmId);
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => post(input, { "Idempotency-Key": `"k-${input.clientId}"` })),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(201));
    expect(responses.filter((response) => response.headers.get("Idempotent-Replayed") === null)).toHaveLength(1);
    expect(new Set(responses.map((response) => JSON.stringify(response.body))).size).toBe(1);
    expect(await db.cropBatch.count({ where: { clientId: input.clientId } })).toBe(1);
  });

  describe("Idempotency-Key", () => {
    it("replays the first response with the same status and body and marks it replayed", async () => {
      const input = newBatch(farmId);
      const key = `replay-${randomUUID()}`;
      const first = await post(input, { "Idempotency-Key": key });
      const second = await post(input, { "Idempotency-Key": key });
      expect(first.status).toBe(201);
      expect(first.headers.get("Idempotent-Replayed")).toBeNull();
      expect(second.status).toBe(201);
      expect(second.headers.get("Idempotent-Replayed")).toBe("true");
      expect(second.body).toEqual(first.body);
      expect(await rowsFor(input.clientId)).toBe(1);
    });

    it("refuses the same key with a different body with 422 and writes nothing", async () => {
      const key = `reuse-${randomUUID()}`;
      const first = newBatch(farmId);
      const other = newBatch(farmId, { quantity: 7 });
      expect((await post(first, { "Idempotency-Key": key })).status).toBe(201);
      const response = await post(other, { "Idempotency-Key": key });
      expect(response.status).toBe(422);
      expect(response.body).toEqual({ error: { code: "idempotency_key_reused", message: expect.any(String) } });
      expect(response.headers.get("Idempotent-Replayed")).toBeNull();
      expect(await rowsFor(other.clientId)).toBe(0);
    });

    it("lets the retry of an attempt that failed mid-write through at once, though its cleanup failed too", async () => {
      const input = newBatch(farmId);
      const key = `failed-${randomUUID()}`;
      // As while the database is away: the attempt's writes fail, and so would anything that cleans up after them.
      await db.$executeRawUnsafe(
        "CREATE FUNCTION gl_test_outage() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'database away'; END $$",
      );
      await db.$executeRawUnsafe(
        "CREATE TRIGGER gl_test_outage BEFORE INSERT ON batch_events FOR EACH ROW EXECUTE FUNCTION gl_test_outage()",
      );
      await db.$executeRawUnsafe(
        "CREATE TRIGGER gl_test_outage BEFORE DELETE ON idempotency_keys FOR EACH ROW EXECUTE FUNCTION gl_test_outage()",
      );
      let failed: Awaited<ReturnType<typeof post>>;
      try {
        failed = await post(input, { "Idempotency-Key": key });
      } finally {
        await db.$executeRawUnsafe("DROP FUNCTION gl_test_outage() CASCADE");
      }
      expect(failed.status).toBeGreaterThanOrEqual(500);
      expect(await rowsFor(input.clientId)).toBe(0);

      const retry = await post(input, { "Idempotency-Key": key });
      expect(retry.status).toBe(201);
      expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
      expect(retry.body.clientId).toBe(input.clientId);
      expect(await rowsFor(input.clientId)).toBe(1);
      const replay = await post(input, { "Idempotency-Key": key });
      expect(replay.status).toBe(201);
      expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
      expect(replay.body).toEqual(retry.body);
    });

    it("keeps keys per principal: another farmer's identical key is not a replay", async () => {
      const other = await userWithRole("farmer");
      const otherFarm = await farmOf(other.address);
      const key = `shared-${randomUUID()}`;
      const mine = await post(newBatch(farmId), { "Idempotency-Key": key });
      const theirs = await post(newBatch(otherFarm.id), { "Idempotency-Key": key }, other.cookie);
      expect(mine.status).toBe(201);
      expect(theirs.status).toBe(201);
      expect(theirs.headers.get("Idempotent-Replayed")).toBeNull();
      expect(theirs.body.tokenId).not.toBe(mine.body.tokenId);
    });

    it("rejects a malformed key with 400 before writing", async () => {
      const input = newBatch(farmId);
      const response = await post(input, { "Idempotency-Key": "x".repeat(256) });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({
        code: "bad_request",
        fields: [{ path: "(header) Idempotency-Key" }],
      });
      expect(await rowsFor(input.clientId)).toBe(0);
    });
  });

  describe("clientId without a key", () => {
    it("returns 200 with the same token id when the same record is posted again", async () => {
      const input = newBatch(farmId);
      const first = await post(input);
      const again = await post(input);
      expect(first.status).toBe(201);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(await rowsFor(input.clientId)).toBe(1);
    });

    it("answers 422 client_id_reused when the clientId comes with a different record", async () => {
      const input = newBatch(farmId);
      const first = await post(input);
      const changed = await post({ ...input, qualityScore: 12 });
      expect(first.status).toBe(201);
      expect(changed.status).toBe(422);
      expect(changed.body.error).toMatchObject({ code: "client_id_reused", fields: [{ path: "clientId" }] });
      const row = await db.cropBatch.findUniqueOrThrow({ where: { clientId: input.clientId } });
      expect(row.qualityScore).toBe(88);
    });

    it("answers 422 when another farmer reuses someone else's clientId for an identical record", async () => {
      const other = await userWithRole("farmer");
      const input = newBatch(farmId);
      expect((await post(input)).status).toBe(201);
      const theirFarm = await farmOf(other.address);
      const response = await post({ ...input, farmId: theirFarm.id }, {}, other.cookie);
      expect(response.status).toBe(422);
      expect(response.body.error.code).toBe("client_id_reused");
    });

    it("makes exactly one row from 50 concurrent identical posts", async () => {
      const input = newBatch(farmId);
      const responses = await Promise.all(Array.from({ length: 50 }, () => post(input)));
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).toEqual([...Array(49).fill(200), 201]);
      expect(new Set(responses.map((response) => response.body.tokenId)).size).toBe(1);
      expect(await rowsFor(input.clientId)).toBe(1);
      const row = await db.cropBatch.findUniqueOrThrow({ where: { clientId: input.clientId } });
      expect(await db.batchEvent.count({ where: { tokenId: row.tokenId } })).toBe(1);
    });
  });

  describe("access", () => {
    it("refuses a farm owned by someone else with 403 and writes nothing", async () => {
      const stranger = await userWithRole("farmer");
      const strangersFarm = await farmOf(stranger.address);
      const input = newBatch(strangersFarm.id);
      const response = await post(input);
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe("forbidden");
      expect(await rowsFor(input.clientId)).toBe(0);
    });

    it("refuses a 403 farm also under an Idempotency-Key, and does not keep the key", async () => {
      const stranger = await userWithRole("farmer");
      const strangersFarm = await farmOf(stranger.address);
      const key = `forbidden-${randomUUID()}`;
      const response = await post(newBatch(strangersFarm.id), { "Idempotency-Key": key });
      expect(response.status).toBe(403);
      expect(await db.idempotencyKey.count({ where: { principal: farmer.address, key } })).toBe(0);
    });

    it("answers 400 for a farm that does not exist", async () => {
      const input = newBatch(2_147_483_000);
      const response = await post(input);
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({
        code: "bad_request",
        fields: [{ path: "farmId", message: "Unknown farm" }],
      });
      expect(await rowsFor(input.clientId)).toBe(0);
    });

    it("answers 401 without a cookie", async () => {
      const input = newBatch(farmId);
      const response = await post(input, {}, null);
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe("unauthorized");
      expect(await rowsFor(input.clientId)).toBe(0);
    });

    it("answers 401 for a garbage or forged session cookie", async () => {
      const input = newBatch(farmId);
      const garbage = await post(input, {}, "gl_session=not-a-jwt");
      const [header = "", payload = ""] = (farmer.cookie.split("=")[1] ?? "").split(".");
      const forged = await post(input, {}, `gl_session=${header}.${payload}.${"A".repeat(43)}`);
      expect(garbage.status).toBe(401);
      expect(forged.status).toBe(401);
      expect(await rowsFor(input.clientId)).toBe(0);
    });

    it("answers 403 for a buyer", async () => {
      const buyer = await userWithRole("buyer");
      const input = newBatch(farmId);
      const response = await post(input, {}, buyer.cookie);
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe("forbidden");
      expect(await rowsFor(input.clientId)).toBe(0);
    });
  });

  describe("validation", () => {
    it("answers 400 with field paths for an invalid record and writes nothing", async () => {
      const input = newBatch(farmId, { quantity: -1, unit: "XXX", extra: true });
      const response = await post(input);
      expect(response.status).toBe(400);
      const paths = response.body.error.fields.map((field: { path: string }) => field.path);
      expect(paths).toEqual(expect.arrayContaining(["quantity", "unit"]));
      expect(paths.length).toBeGreaterThanOrEqual(3);
      expect(await rowsFor(input.clientId)).toBe(0);
    });

    it("a NUL character in a text field answers 400, not 500", async () => {
      const withNulVariety = newBatch(farmId, { variety: "Ro\u0000ma" });
      const withNulNotes = newBatch(farmId, { metadata: { notes: "picked\u0000early" } });
      const created = await post(newBatch(farmId));
      expect(created.status).toBe(201);
      const statuses = [
        (await post(withNulVariety)).status,
        (await post(withNulNotes)).status,
        (await call(search, {}, { method: "POST", body: { q: "ro\u0000ma" } })).status,
        (
          await call(
            recordEvent,
            { tokenId: String(created.body.tokenId) },
            {
              method: "POST",
              body: { action: "recall", reason: "bad\u0000batch" },
              cookie: farmer.cookie,
            },
          )
        ).status,
      ];
      expect(statuses).toEqual([400, 400, 400, 400]);
      expect(await rowsFor(withNulVariety.clientId)).toBe(0);
      expect(await rowsFor(withNulNotes.clientId)).toBe(0);
    });

    it("answers 400 for a malformed JSON body", async () => {
      const response = await call(createBatch, {}, { method: "POST", rawBody: "{", cookie: farmer.cookie });
      expect(response.status).toBe(400);
      expect(response.body.error.fields).toEqual([{ path: "(body)", message: "Malformed JSON" }]);
    });
  });
});
