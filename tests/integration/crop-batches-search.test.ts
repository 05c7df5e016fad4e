import { randomUUID } from "node:crypto";
import { getAddress } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { POST as recordEvent } from "@/app/api/crop-batches/[tokenId]/events/route";
import { POST as createBatch } from "@/app/api/crop-batches/route";
import { POST as search } from "@/app/api/crop-batches/search/route";
import { db } from "@/lib/db/client";
import { call, newBatch, type TestUser, userWithRole } from "@/tests/support/api";

type Seed = {
  crop: "apple" | "pear";
  variety: string;
  farm: "north" | "south";
  harvestDate: string;
  qualityScore: number;
  quantity: number;
  certifications?: string[];
};

type Made = Seed & { tokenId: number; cropType: string; state: number };

const SEEDS: Seed[] = [
  {
    crop: "apple",
    variety: "Gala",
    farm: "north",
    harvestDate: "2025-06-01",
    qualityScore: 90,
    quantity: 250,
    certifications: ["EU Organic", "GlobalG.A.P."],
  },
  {
    crop: "apple",
    variety: "Gala",
    farm: "north",
    harvestDate: "2025-06-01",
    qualityScore: 70,
    quantity: 120.5,
    certifications: ["EU Organic"],
  },
  {
    crop: "apple",
    variety: "Fuji",
    farm: "south",
    harvestDate: "2025-06-01",
    qualityScore: 60,
    quantity: 250,
    certifications: [],
  },
  {
    crop: "apple",
    variety: "Braeburn",
    farm: "north",
    harvestDate: "2025-05-15",
    qualityScore: 95,
    quantity: 120.5,
    certifications: ["GlobalG.A.P."],
  },
  {
    crop: "pear",
    variety: "Conference",
    farm: "south",
    harvestDate: "2025-05-15",
    qualityScore: 80,
    quantity: 80.25,
    certifications: ["EU Organic"],
  },
  { crop: "pear", variety: "Conference", farm: "south", harvestDate: "2025-04-30", qualityScore: 70, quantity: 1000 },
  {
    crop: "pear",
    variety: "Williams",
    farm: "north",
    harvestDate: "2025-04-30",
    qualityScore: 85,
    quantity: 80.25,
    certifications: ["Fair Trade"],
  },
  {
    crop: "apple",
    variety: "Elstar",
    farm: "south",
    harvestDate: "2025-03-01",
    qualityScore: 40,
    quantity: 5,
    certifications: ["EU Organic"],
  },
  {
    crop: "pear",
    variety: "Doyenne",
    farm: "north",
    harvestDate: "2025-02-14",
    qualityScore: 99,
    quantity: 120.5,
    certifications: ["GlobalG.A.P.", "EU Organic"],
  },
  {
    crop: "apple",
    variety: "Jonagold",
    farm: "south",
    harvestDate: "2025-01-01",
    qualityScore: 75,
    quantity: 999.999,
    certifications: [],
  },
];

describe("POST /api/crop-batches/search", () => {
  const tag = randomUUID().slice(0, 8);
  const cropType = { apple: `testcrop-${tag}-apple`, pear: `testcrop-${tag}-pear` };
  const farmName = { north: `Zephyr Orchard ${tag}`, south: `Quill Meadow ${tag}` };
  const region = { north: `north-${tag}`, south: `south-${tag}` };
  const scope = { cropTypes: [cropType.apple, cropType.pear] };
  let farmer: TestUser;
  let farmIds: Record<"north" | "south", number>;
  let made: Made[];

  const ORDERS = {
    newest: (a: Made, b: Made) => b.harvestDate.localeCompare(a.harvestDate) || b.tokenId - a.tokenId,
    oldest: (a: Made, b: Made) => a.harvestDate.localeCompare(b.harvestDate) || a.tokenId - b.tokenId,
    quality: (a: Made, b: Made) => b.qualityScore - a.qualityScore || b.tokenId - a.tokenId,
    quantity: (a: Made, b: Made) => b.quantity - a.quantity || b.tokenId - a.tokenId,
  };
  const expected = (keep: (batch: Made) => boolean, order: keyof typeof ORDERS = "newest") =>
    made
      .filter(keep)
      .sort(ORDERS[order])
      .map((batch) => batch.tokenId);
  const find = (body: unknown) => call(search, {}, { method: "POST", path: "/api/crop-batches/search", body });
  const ids = (response: { body: { results: { tokenId: number }[] } }) => response.body.results.map((r) => r.tokenId);

  beforeAll(async () => {
    farmer = await userWithRole("farmer");
    const makeFarm = (side: "north" | "south") =>
      db.farm.create({
        data: {
          name: farmName[side],
          region: region[side],
          country: "NL",
          latitude: 52,
          longitude: 5,
          ownerAddress: farmer.address,
        },
      });
    farmIds = { north: (await makeFarm("north")).id, south: (await makeFarm("south")).id };
    made = [];
    for (const seed of SEEDS) {
      const body = newBatch(farmIds[seed.farm], {
        cropType: cropType[seed.crop].toUpperCase(),
        variety: seed.variety,
        harvestDate: seed.harvestDate,
        qualityScore: seed.qualityScore,
        quantity: seed.quantity,
        metadata: seed.certifications ? { certifications: seed.certifications } : {},
      });
      const response = await call(createBatch, {}, { method: "POST", body, cookie: farmer.cookie });
      expect(response.status).toBe(201);
      made.push({ ...seed, tokenId: response.body.tokenId, cropType: cropType[seed.crop], state: 0 });
    }
    const act = async (index: number, body: unknown, state: number) => {
      const batch = made[index];
      if (!batch) throw new Error(`no seed ${index}`);
      const response = await call(
        recordEvent,
        { tokenId: String(batch.tokenId) },
        { method: "POST", body, cookie: farmer.cookie },
      );
      expect(response.status).toBe(201);
      batch.state = state;
    };
    await act(3, { action: "ship" }, 1);
    await act(6, { action: "ship" }, 1);
    await act(7, { action: "recall", reason: "mould" }, 5);
  });

  it("accepts the legacy body {cropType, limit, offset}", async () => {
    const response = await find({ cropType: cropType.apple.toUpperCase(), limit: 2, offset: 1 });
    expect(response.status).toBe(200);
    expect(ids(response)).toEqual(expected((b) => b.crop === "apple").slice(1, 3));
    expect(response.body.nextCursor).toEqual(expect.any(String));
  });

  it("returns summaries with certifications, state, checksummed owner and farm", async () => {
    const response = await find({
      ...scope,
      farmId: farmIds.north,
      harvestedFrom: "2025-05-15",
      harvestedTo: "2025-05-15",
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      results: [
        {
          tokenId: made[3]?.tokenId,
          cropType: cropType.apple,
          variety: "Braeburn",
          quantity: 120.5,
          unit: "KGM",
          harvestDate: "2025-05-15",
          qualityScore: 95,
          state: 1,
          stateName: "in_transit",
          certifications: ["GlobalG.A.P."],
          ownerAddress: getAddress(farmer.address),
          chainStatus: "pending",
          farm: { id: farmIds.north, name: farmName.north, region: region.north, country: "NL" },
          thumbnailUrl: null,
          validCertificate: false,
        },
      ],
      nextCursor: null,
    });
  });

  describe("filters", () => {
    it.each([
      ["cropTypes (case-insensitive)", { cropTypes: [cropType.pear.toUpperCase()] }, (b: Made) => b.crop === "pear"],
      ["both cropTypes", scope, () => true],
      ["states", { ...scope, states: [1] }, (b: Made) => b.state === 1],
      ["several states", { ...scope, states: [0, 5] }, (b: Made) => b.state === 0 || b.state === 5],
      ["harvestedFrom", { ...scope, harvestedFrom: "2025-05-15" }, (b: Made) => b.harvestDate >= "2025-05-15"],
      ["harvestedTo", { ...scope, harvestedTo: "2025-03-01" }, (b: Made) => b.harvestDate <= "2025-03-01"],
      [
        "harvestedFrom..harvestedTo",
        { ...scope, harvestedFrom: "2025-04-30", harvestedTo: "2025-05-15" },
        (b: Made) => b.harvestDate >= "2025-04-30" && b.harvestDate <= "2025-05-15",
      ],
      ["minQuality", { ...scope, minQuality: 85 }, (b: Made) => b.qualityScore >= 85],
      [
        "certification (JSONB containment)",
        { ...scope, certification: "GlobalG.A.P." },
        (b: Made) => b.certifications?.includes("GlobalG.A.P.") ?? false,
      ],
      ["certification that nobody has", { ...scope, certification: "Demeter" }, () => false],
      [
        "cropType + certification + minQuality",
        { cropType: cropType.apple, certification: "EU Organic", minQuality: 60 },
        (b: Made) => b.crop === "apple" && (b.certifications?.includes("EU Organic") ?? false) && b.qualityScore >= 60,
      ],
    ])("narrows by %s", async (_name, body, keep) => {
      const response = await find({ ...body, limit: 100 });
      expect(response.status).toBe(200);
      expect(ids(response)).toEqual(expected(keep));
    });

    it("narrows by farmId", async () => {
      const response = await find({ farmId: farmIds.south, limit: 100 });
      expect(ids(response)).toEqual(expected((b) => b.farm === "south"));
    });

    it("narrows by region (exact)", async () => {
      const response = await find({ region: region.north, limit: 100 });
      expect(ids(response)).toEqual(expected((b) => b.farm === "north"));
      expect(ids(await find({ region: `north-${tag.slice(0, 4)}` }))).toEqual([]);
    });

    it.each([
      ["crop type", () => `${tag}-PEA`, (b: Made) => b.crop === "pear"],
      ["variety", () => "conference", (b: Made) => b.variety === "Conference"],
      ["farm name", () => `zephyr orchard ${tag}`, (b: Made) => b.farm === "north"],
      ["region", () => `SOUTH-${tag}`, (b: Made) => b.farm === "south"],
    ])("matches q against the %s", async (_name, q, keep) => {
      const response = await find({ ...scope, q: q(), limit: 100 });
      expect(response.status).toBe(200);
      expect(ids(response)).toEqual(expected(keep));
    });

    it("treats LIKE wildcards in q literally", async () => {
      expect(ids(await find({ q: `testcrop_${tag}` }))).toEqual([]);
      expect(ids(await find({ q: `testcrop-${tag}%apple` }))).toEqual([]);
    });
  });

  describe("keyset pagination", () => {
    async function walk(body: Record<string, unknown>) {
      const pages: number[][] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 20; guard++) {
        const response = await find({ ...body, limit: 3, ...(cursor ? { cursor } : {}) });
        expect(response.status).toBe(200);
        pages.push(ids(response));
        cursor = response.body.nextCursor ?? undefined;
        if (!cursor) break;
      }
      return pages;
    }

    it("walks every page with limit 3: ordered, no duplicates, no gaps, last cursor null", async () => {
      const pages = await walk(scope);
      expect(pages.map((page) => page.length)).toEqual([3, 3, 3, 1]);
      const all = pages.flat();
      expect(new Set(all).size).toBe(all.length);
      expect(all).toEqual(expected(() => true));
    });

    it("ends on a full page without an empty extra page", async () => {
      const pages = await walk({ cropTypes: [cropType.apple] });
      expect(pages.map((page) => page.length)).toEqual([3, 3]);
      expect(pages.flat()).toEqual(expected((b) => b.crop === "apple"));
    });

    it("keeps filters across pages", async () => {
      const pages = await walk({ ...scope, certification: "EU Organic" });
      expect(pages.flat()).toEqual(expected((b) => b.certifications?.includes("EU Organic") ?? false));
    });

    // The seeds tie on every sort key (harvest dates, quality 70, quantities 250, 120.5 and 80.25), some across pages.
    it.each(["newest", "oldest", "quality", "quantity"] as const)(
      "sorts by %s across pages: ordered, ties broken by token id, no duplicates or gaps",
      async (sort) => {
        const pages = await walk({ ...scope, sort });
        expect(pages.map((page) => page.length)).toEqual([3, 3, 3, 1]);
        expect(pages.flat()).toEqual(expected(() => true, sort));
      },
    );

    it("sorts a filtered search and keeps the filter across pages", async () => {
      const pages = await walk({ ...scope, sort: "quantity", states: [0] });
      expect(pages.flat()).toEqual(expected((b) => b.state === 0, "quantity"));
    });

    it("refuses a cursor from another sort order", async () => {
      const first = await find({ ...scope, sort: "quality", limit: 3 });
      const response = await find({ ...scope, sort: "quantity", limit: 3, cursor: first.body.nextCursor });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({
        code: "bad_request",
        fields: [{ path: "cursor", message: 'Cursor is for sort "quality"' }],
      });
    });
  });

  describe("invalid input answers 400", () => {
    const forged = Buffer.from(JSON.stringify(["newest", "2025-01-01", -1])).toString("base64url");
    const badKey = Buffer.from(JSON.stringify(["quantity", "12e3", 5])).toString("base64url");

    it.each([
      ["a garbage cursor", { cursor: "not-a-cursor" }, "cursor"],
      ["a cursor of the wrong shape", { cursor: forged }, "cursor"],
      ["a cursor whose key does not fit its sort", { sort: "quantity", cursor: badKey }, "cursor"],
      [
        "cursor together with offset",
        { cursor: Buffer.from('["newest","2025-01-01",5]').toString("base64url"), offset: 0 },
        "cursor",
      ],
      ["limit 0", { limit: 0 }, "limit"],
      ["limit 101", { limit: 101 }, "limit"],
      ["harvestedFrom after harvestedTo", { harvestedFrom: "2025-06-02", harvestedTo: "2025-06-01" }, "harvestedFrom"],
      ["a one-letter q", { q: "a" }, "q"],
      ["a state out of range", { states: [6] }, "states.0"],
      ["an unknown sort", { sort: "cheapest" }, "sort"],
      ["an unknown field", { order: "quality" }, "(root)"],
    ])("for %s", async (_name, body, path) => {
      const response = await find({ ...scope, ...body });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe("bad_request");
      expect(response.body.error.fields.map((field: { path: string }) => field.path)).toContain(path);
    });
  });
});
