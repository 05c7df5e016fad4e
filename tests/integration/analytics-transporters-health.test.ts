import { randomUUID } from "node:crypto";
import { getAddress } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { beforeAll, describe, expect, it } from "vitest";
import { GET as hourly } from "@/app/api/analytics/hourly/route";
import { POST as refresh } from "@/app/api/analytics/refresh/route";
import { POST as createBatch } from "@/app/api/crop-batches/route";
import { GET as listFarms, POST as registerFarm } from "@/app/api/farms/route";
import { GET as health } from "@/app/api/health/route";
import { GET as nearby } from "@/app/api/transporters/nearby/route";
import { refreshAnalytics } from "@/lib/analytics/refresh-analytics";
import { db } from "@/lib/db/client";
import type { TransporterStatus } from "@/lib/generated/prisma/enums";
import { call, farmOf, newBatch, type TestUser, userWithRole } from "@/tests/support/api";

const HOUR = 3_600_000;
const floorHour = (time: number) => Math.floor(time / HOUR) * HOUR;

describe("analytics", () => {
  const cropType = `testcrop-${randomUUID().slice(0, 8)}-analytics`;
  let admin: TestUser;
  let farmer: TestUser;
  let farmId: number;
  const recentHour = floorHour(Date.now() - 2 * HOUR);
  const oldHour = floorHour(Date.now() - 3 * 24 * HOUR);

  async function batchAt(createdAt: number, quantity: number, qualityScore: number) {
    const response = await call(
      createBatch,
      {},
      {
        method: "POST",
        body: newBatch(farmId, { cropType, quantity, qualityScore }),
        cookie: farmer.cookie,
      },
    );
    expect(response.status).toBe(201);
    await db.cropBatch.update({
      where: { tokenId: BigInt(response.body.tokenId) },
      data: { createdAt: new Date(createdAt) },
    });
  }

  const points = async () => {
    const response = await call(hourly, {}, { path: `/api/analytics/hourly?cropType=${cropType.toUpperCase()}` });
    expect(response.status).toBe(200);
    return response.body.points;
  };

  beforeAll(async () => {
    admin = await userWithRole("admin");
    farmer = await userWithRole("farmer");
    farmId = (await farmOf(farmer.address)).id;
    await batchAt(recentHour + 5 * 60_000, 10.5, 70);
    await batchAt(recentHour + 20 * 60_000, 20.25, 80);
    await batchAt(recentHour + 59 * 60_000, 60, 91);
    await batchAt(oldHour + 30 * 60_000, 5, 40);
    await batchAt(oldHour + 31 * 60_000, 15, 60);
  });

  it("refreshes only the last 24 hours: the recent hour with count, average and median, not the 3-day-old one", async () => {
    expect(await points()).toEqual([]);
    const response = await call(refresh, {}, { method: "POST", path: "/api/analytics/refresh", cookie: admin.cookie });
    expect(response.status).toBe(200);
    expect(response.body.rowsWritten).toBeGreaterThanOrEqual(1);
    expect(await points()).toEqual([
      { hour: new Date(recentHour).toISOString(), cropType, batchCount: 3, avgQuality: 80.33, medianQuantity: 20.25 },
    ]);
  });

  it("adds the older hour when refreshed from an earlier `since`, newest first", async () => {
    // Through the app's verb: it also drops the cached analytics.
    await refreshAnalytics(new Date(oldHour - HOUR));
    expect(await points()).toEqual([
      { hour: new Date(recentHour).toISOString(), cropType, batchCount: 3, avgQuality: 80.33, medianQuantity: 20.25 },
      { hour: new Date(oldHour).toISOString(), cropType, batchCount: 2, avgQuality: 50, medianQuantity: 10 },
    ]);
    const window = await call(
      hourly,
      {},
      {
        path: `/api/analytics/hourly?cropType=${cropType}&from=${encodeURIComponent(new Date(oldHour).toISOString())}&to=${encodeURIComponent(new Date(oldHour + HOUR).toISOString())}`,
      },
    );
    expect(window.body.points.map((p: { hour: string }) => p.hour)).toEqual([new Date(oldHour).toISOString()]);
  });

  // Serialised on PGlite (one connection), so this only fails on real PostgreSQL.
  it("concurrent refreshes (admin + scheduled job) all succeed", async () => {
    for (let round = 0; round < 3; round++) {
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => call(refresh, {}, { method: "POST", cookie: admin.cookie })),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    }
    expect((await points())[0]).toMatchObject({ hour: new Date(recentHour).toISOString(), batchCount: 3 });
  });

  it("lets only an admin refresh", async () => {
    const response = await call(refresh, {}, { method: "POST", cookie: farmer.cookie });
    expect(response.status).toBe(403);
    expect((await call(refresh, {}, { method: "POST" })).status).toBe(401);
  });

  it("answers 400 for bad query parameters", async () => {
    for (const query of ["limit=0", "from=yesterday", "unknown=1"]) {
      const response = await call(hourly, {}, { path: `/api/analytics/hourly?${query}` });
      expect(response.status, query).toBe(400);
      expect(response.body.error.fields[0].path, query).toMatch(/^query/);
    }
  });
});

describe("GET /api/transporters/nearby", () => {
  // A random spot in the Southern Ocean, so transporters made by other tests are never near it.
  const lat = -50 - Math.random() * 5;
  const lng = -120 - Math.random() * 5;
  const EARTH_KM = 6378.168;
  const kmNorth = (degrees: number) => (degrees * Math.PI * EARTH_KM) / 180;
  let user: TestUser;
  const made: Record<string, { id: number; address: string; dLat: number }> = {};

  async function transporter(name: string, dLat: number, status: TransporterStatus) {
    const address = privateKeyToAccount(generatePrivateKey()).address.toLowerCase();
    const row = await db.transporter.create({ data: { address, name, status, latitude: lat + dLat, longitude: lng } });
    made[name] = { id: row.id, address, dLat };
  }

  const find = (query: string, cookie: string | null = user.cookie) =>
    call(nearby, {}, { path: `/api/transporters/nearby?${query}`, cookie: cookie ?? undefined });

  beforeAll(async () => {
    user = await userWithRole("farmer");
    await transporter("far-available", 1.0, "available");
    await transporter("mid-available", 0.1, "available");
    await transporter("near-busy", 0.01, "busy");
    await transporter("near-offline", 0.015, "offline");
    await transporter("near-available", 0.02, "available");
  });

  it("returns only available transporters within the radius, nearest first, with distances", async () => {
    const response = await find(`lat=${lat}&lng=${lng}&radiusKm=25`);
    expect(response.status).toBe(200);
    const names = response.body.transporters.map((t: { name: string }) => t.name);
    expect(names).toEqual(["near-available", "mid-available"]);
    const [near, mid] = response.body.transporters;
    expect(near).toMatchObject({
      id: made["near-available"]?.id,
      address: getAddress(made["near-available"]?.address ?? ""),
      latitude: lat + 0.02,
      longitude: lng,
    });
    expect(near.distanceKm).toBeCloseTo(kmNorth(0.02), 1);
    expect(mid.distanceKm).toBeCloseTo(kmNorth(0.1), 1);
  });

  it("widens with the radius and defaults to 25 km", async () => {
    const wide = await find(`lat=${lat}&lng=${lng}&radiusKm=150`);
    expect(wide.body.transporters.map((t: { name: string }) => t.name)).toEqual([
      "near-available",
      "mid-available",
      "far-available",
    ]);
    expect(wide.body.transporters[2].distanceKm).toBeCloseTo(kmNorth(1), 0);
    const narrow = await find(`lat=${lat}&lng=${lng}&radiusKm=5`);
    expect(narrow.body.transporters.map((t: { name: string }) => t.name)).toEqual(["near-available"]);
    const byDefault = await find(`lat=${lat}&lng=${lng}`);
    expect(byDefault.body.transporters.map((t: { name: string }) => t.name)).toEqual([
      "near-available",
      "mid-available",
    ]);
  });

  it("answers 401 without a session", async () => {
    const response = await find(`lat=${lat}&lng=${lng}`, null);
    expect(response.status).toBe(401);
  });

  it.each([
    "lat=200&lng=0",
    "lat=0&lng=181",
    "lat=abc&lng=0",
    "lat=0",
    "lat=0&lng=0&radiusKm=0",
    "lat=0&lng=0&radiusKm=501",
    "lat=0&lng=0&x=1",
  ])("answers 400 for %s", async (query) => {
    const response = await find(query);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("bad_request");
  });
});

describe("GET /api/health", () => {
  it("reports the database up, the engine and cache this run uses, and a chain that is not running as down", async () => {
    const real = Boolean(process.env.TEST_DATABASE_URL);
    const response = await call(health, {}, { path: "/api/health" });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.body).toEqual({
      status: "degraded",
      database: { status: "up", engine: real ? "postgresql" : "embedded-pglite", latencyMs: expect.any(Number) },
      cache: { status: "up", kind: process.env.TEST_REDIS_URL ? "redis" : "memory" },
      chain: {
        status: "down",
        chainId: 31337,
        embedded: true,
        head: null,
        indexed: null,
        lagBlocks: null,
        queuedJobs: expect.any(Number),
      },
    });
  });
});

describe("/api/farms", () => {
  const farmBody = (name: string) => ({ name, region: "Flevoland", country: "NL", latitude: 52.5, longitude: 5.6 });

  it("creates a farm owned by the calling farmer and lists only that farmer's farms", async () => {
    const farmer = await userWithRole("farmer");
    const neighbour = await userWithRole("farmer");
    const first = await call(
      registerFarm,
      {},
      { method: "POST", body: farmBody("  North Field  "), cookie: farmer.cookie },
    );
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      id: expect.any(Number),
      name: "North Field",
      ownerAddress: farmer.address,
      country: "NL",
    });
    const second = await call(
      registerFarm,
      {},
      { method: "POST", body: farmBody("South Field"), cookie: farmer.cookie },
    );
    expect(second.status).toBe(201);
    const theirs = await call(
      registerFarm,
      {},
      { method: "POST", body: farmBody("Neighbour Field"), cookie: neighbour.cookie },
    );
    expect(theirs.status).toBe(201);

    const listed = await call(listFarms, {}, { cookie: farmer.cookie });
    expect(listed.status).toBe(200);
    expect(listed.body.farms.map((farm: { id: number }) => farm.id)).toEqual([first.body.id, second.body.id]);
    const row = await db.farm.findUniqueOrThrow({ where: { id: first.body.id } });
    expect(row.ownerAddress).toBe(farmer.address);
  });

  it("rejects an ownerAddress in the body instead of registering a farm for someone else", async () => {
    const farmer = await userWithRole("farmer");
    const victim = await userWithRole("farmer");
    const response = await call(
      registerFarm,
      {},
      {
        method: "POST",
        body: { ...farmBody("Hijack"), ownerAddress: victim.address },
        cookie: farmer.cookie,
      },
    );
    expect(response.status).toBe(400);
    expect(await db.farm.count({ where: { ownerAddress: victim.address } })).toBe(0);
  });

  it("refuses buyers and anonymous callers, and answers 400 for a bad country", async () => {
    const buyer = await userWithRole("buyer");
    expect(
      (await call(registerFarm, {}, { method: "POST", body: farmBody("Nope"), cookie: buyer.cookie })).status,
    ).toBe(403);
    expect(await db.farm.count({ where: { ownerAddress: buyer.address } })).toBe(0);
    expect((await call(listFarms, {}, { cookie: buyer.cookie })).status).toBe(403);
    expect((await call(registerFarm, {}, { method: "POST", body: farmBody("Nope") })).status).toBe(401);
    const farmer = await userWithRole("farmer");
    const bad = await call(
      registerFarm,
      {},
      { method: "POST", body: { ...farmBody("Lowercase"), country: "nl" }, cookie: farmer.cookie },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toEqual([{ path: "country", message: "must be an ISO 3166-1 alpha-2 code" }]);
  });
});
