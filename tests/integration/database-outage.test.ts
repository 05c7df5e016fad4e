import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PgClusterInfo, pgCluster } from "@/deploy/local/pg-cluster";

// The app's clients point at a PostgreSQL this file starts, so the test can stop it; everything that reads the
// configuration is imported after that.
const cluster = pgCluster();
let server: PgClusterInfo;
let app: Awaited<ReturnType<typeof load>>;

async function load() {
  const [create, events, health, metrics, support, database, gateway] = await Promise.all([
    import("@/app/api/crop-batches/route"),
    import("@/app/api/crop-batches/[tokenId]/events/route"),
    import("@/app/api/health/route"),
    import("@/app/api/metrics/route"),
    import("@/tests/support/api"),
    import("@/lib/db/client"),
    import("@/lib/http/gateway"),
  ]);
  return {
    create: create.POST,
    event: events.POST,
    health: health.GET,
    metrics: metrics.GET,
    ...support,
    database,
    createGateway: gateway.createGateway,
  };
}

beforeAll(async () => {
  server = await cluster.start();
  process.env.DATABASE_URL = server.url;
  delete process.env.DATABASE_READ_URL;
  delete process.env.DATABASE_ANALYTICS_URL;
  const { migrate } = await import("@/lib/db/migrate");
  await migrate(server.url);
  app = await load();
});

// Processes of the test's cluster that a test stopped with SIGSTOP: resumed even when that test fails.
let frozen: number[] = [];
const thaw = () => {
  for (const pid of frozen) process.kill(pid, "SIGCONT");
  frozen = [];
};

afterAll(async () => {
  thaw();
  await app?.database.closeDatabase();
  await cluster.destroy();
});

async function unavailableAnswers(): Promise<number> {
  const response = await app.metrics(new Request("http://localhost/api/metrics"), { params: Promise.resolve({}) });
  const line = (await response.text())
    .split("\n")
    .find((row) => row.startsWith('gl_errors_total{kind="database_unavailable"}'));
  return Number(line?.split(" ")[1] ?? 0);
}

describe("while PostgreSQL is down", () => {
  let farmer: Awaited<ReturnType<typeof app.userWithRole>>;
  let farmId: number;
  let tokenId: number;

  const createBatch = () =>
    app.call(app.create, {}, { method: "POST", body: app.newBatch(farmId), cookie: farmer.cookie });
  const ship = () =>
    app.call(
      app.event,
      { tokenId: String(tokenId) },
      { method: "POST", body: { action: "ship", location: { lat: 52.1, lng: 4.3 } }, cookie: farmer.cookie },
    );

  // The gateway answers its lanes (search, verification) itself; Next behind it is not needed here.
  let gateway: http.Server;
  let base: string;
  const viaGateway = (path: string, init?: RequestInit) => fetch(`${base}${path}`, init);

  beforeAll(async () => {
    gateway = http.createServer(app.createGateway(async (_request, response) => void response.writeHead(404).end()));
    await new Promise<void>((resolve) => gateway.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    farmer = await app.userWithRole("farmer");
    farmId = (await app.farmOf(farmer.address)).id;
    const created = await createBatch();
    expect(created.status).toBe(201);
    tokenId = created.body.tokenId;
  });

  afterAll(async () => {
    await new Promise((resolve) => gateway?.close(resolve));
  });

  const unavailable = {
    error: {
      code: "service_unavailable",
      message: "The database cannot be reached right now. Please try again shortly.",
    },
  };

  it("answers writes 503 service_unavailable with Retry-After, counts them, and reports the database down", async () => {
    const before = await unavailableAnswers();
    expect((await viaGateway("/api/ready")).status).toBe(200);
    await cluster.stop("fast");

    for (const response of [await createBatch(), await ship()]) {
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      expect(response.body).toEqual(unavailable);
    }
    const lanes = [
      await viaGateway("/api/crop-batches/search", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ q: `outage ${randomUUID()}` }),
      }),
      await viaGateway(`/api/verify/${tokenId}`),
    ];
    for (const response of lanes) {
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      expect(await response.json()).toEqual(unavailable);
    }
    expect(await unavailableAnswers()).toBe(before + 4);

    const health = await app.call(app.health, {}, { path: "/api/health" });
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({
      status: "down",
      database: { status: "down", engine: "postgresql", latencyMs: null },
      chain: null,
    });
    // The balancer stops sending traffic here until the database is back.
    await expect.poll(async () => (await viaGateway("/api/ready")).status).toBe(503);
    const ready = await viaGateway("/api/ready");
    expect(ready.headers.get("retry-after")).toBe("5");
    expect(await ready.json()).toEqual({
      error: { code: "service_unavailable", message: "This instance cannot reach its database." },
    });
  });

  it("takes writes again once it is back", async () => {
    await cluster.start();
    const created = await createBatch();
    expect(created.status).toBe(201);
    const shipped = await ship();
    expect(shipped.status).toBe(201);
    expect(shipped.body).toMatchObject({ tokenId, stateName: "in_transit" });
    expect((await app.call(app.health, {}, { path: "/api/health" })).body.database.status).toBe("up");
    await expect.poll(async () => (await viaGateway("/api/ready")).status).toBe(200);
  });

  it("reports a database that accepts connections but never answers as down within the probe's bound", async () => {
    const pids = (await app.database.db.$queryRaw<{ pid: number }[]>`SELECT pid FROM pg_stat_activity`).map(
      (row) => row.pid,
    );
    const postmaster = Number((await readFile(path.join(server.dataDir, "postmaster.pid"), "utf8")).split("\n")[0]);
    frozen = [postmaster, ...pids];
    for (const pid of frozen) process.kill(pid, "SIGSTOP");
    try {
      const started = Date.now();
      const health = await app.call(app.health, {}, { path: "/api/health" });
      expect(health.status).toBe(503);
      expect(health.body.database.status).toBe("down");
      // The pool would wait 10 s for a connection; the probe gives up after 2 s.
      expect(Date.now() - started).toBeLessThan(4_000);
    } finally {
      thaw();
    }
  });
});
