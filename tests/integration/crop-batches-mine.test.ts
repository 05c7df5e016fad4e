import { beforeAll, describe, expect, it } from "vitest";
import { POST as createBatch, GET as listMine } from "@/app/api/crop-batches/route";
import { call, farmOf, newBatch, type TestUser, userWithRole } from "@/tests/support/api";

describe("GET /api/crop-batches (the caller's own batches)", () => {
  let farmer: TestUser;
  let created: number[];

  beforeAll(async () => {
    farmer = await userWithRole("farmer");
    const farm = await farmOf(farmer.address);
    created = [];
    for (let index = 0; index < 5; index += 1) {
      const response = await call(createBatch, {}, { method: "POST", body: newBatch(farm.id), cookie: farmer.cookie });
      expect(response.status).toBe(201);
      created.push(response.body.tokenId);
    }
  });

  const list = (query: string, cookie: string | null = farmer.cookie) =>
    call(listMine, {}, { path: `/api/crop-batches${query}`, cookie: cookie ?? undefined });

  it("pages through the owner's batches newest first, each once", async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const response = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(response.status).toBe(200);
      expect(response.body.results.length).toBeLessThanOrEqual(2);
      seen.push(...response.body.results.map((batch: { tokenId: number }) => batch.tokenId));
      cursor = response.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...created].reverse());
  });

  it("shows nothing of other owners' batches", async () => {
    const other = await userWithRole("farmer");
    const response = await list("", other.cookie);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ results: [], nextCursor: null });
  });

  it("answers 401 without a session and 400 for a bad limit or cursor", async () => {
    expect((await list("", null)).status).toBe(401);
    const badLimit = await list("?limit=0");
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.fields[0].path).toBe("query.limit");
    const badCursor = await list("?cursor=nope");
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error.fields).toEqual([{ path: "query.cursor", message: "Invalid cursor" }]);
  });
});
