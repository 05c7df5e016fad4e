import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PgCluster, pgCluster } from "@/deploy/local/pg-cluster";
import { type ServerProcess, startServerProcess } from "@/deploy/local/server-process";
import { newBatch } from "@/tests/support/api";
import { farmerWithFarm } from "@/tests/support/farmer";
import { replicaCaughtUp } from "@/tests/support/replica";
import { until } from "@/tests/support/until";

const ROUNDS = 100;

// A primary and a streaming replica that applies WAL a second late, both of the test's own; one server reads from
// the replica through DATABASE_READ_URL.
describe("reads from a lagging streaming replica", () => {
  let primary: PgCluster;
  let replica: PgCluster;
  let sql: pg.Pool;
  let onReplica: pg.Pool;
  let server: ServerProcess;
  let cookie: string;
  let farmId: number;
  const logDir = mkdtempSync(path.join(tmpdir(), "gl-replica-"));

  beforeAll(async () => {
    if (!existsSync(".next/BUILD_ID")) throw new Error("This test runs the production server: `npm run build` first");
    primary = pgCluster();
    const primaryInfo = await primary.start();
    replica = pgCluster({ replicaOf: primaryInfo, applyDelay: "1s" });
    const replicaInfo = await replica.start();
    server = await startServerProcess("web", logDir, {
      DATABASE_URL: primaryInfo.url,
      DATABASE_READ_URL: replicaInfo.url,
    });
    sql = new pg.Pool({ connectionString: primaryInfo.url, max: 2 });
    sql.on("error", () => undefined);
    onReplica = new pg.Pool({ connectionString: replicaInfo.url, max: 1 });
    onReplica.on("error", () => undefined);
    ({ farmId, cookie } = await farmerWithFarm(sql));
    // The farmer row must have reached the replica before the first request reads it there.
    await until(() => replicaCaughtUp(sql), 20_000);
  }, 180_000);

  afterAll(async () => {
    await sql?.end();
    await onReplica?.end();
    await server?.child.stop();
    await replica?.destroy();
    await primary?.destroy();
    if (!process.env.KEEP_LOGS) rmSync(logDir, { recursive: true, force: true });
  });

  const call = async (method: string, pathname: string, body?: unknown, extraCookie = "") => {
    const response = await fetch(`${server.baseUrl}${pathname}`, {
      method,
      headers: { "content-type": "application/json", cookie: `${cookie}${extraCookie}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const readAfter = response.headers.getSetCookie().find((line) => line.startsWith("gl-read-after="));
    return { status: response.status, body: await response.json(), readAfter: readAfter?.split(";")[0] };
  };

  it(`shows each of ${ROUNDS} writes to the reads right after it, though the replica is a second behind`, async () => {
    let shown = 0;
    let last = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const created = await call("POST", "/api/crop-batches", newBatch(farmId, { cropType: "replica-radish" }));
      expect(created.status).toBe(201);
      expect(created.readAfter).toMatch(/^gl-read-after=[0-9A-F]+\/[0-9A-F]+$/);
      const read = await call("GET", `/api/crop-batches/${created.body.tokenId}`, undefined, `; ${created.readAfter}`);
      if (read.status === 200 && read.body.clientId === created.body.clientId) shown += 1;
      last = created.body.tokenId;
    }
    expect(shown).toBe(ROUNDS);

    // Once the replica has every write (the chain's included), reads go to it again.
    await until(async () => {
      const { rows } = await sql.query("SELECT 1 FROM crop_batches WHERE chain_status <> 'final'");
      return rows.length === 0;
    }, 30_000);
    // Caught up: the replica has replayed all the primary has written (a loaded machine replays later than 1 s).
    await until(() => replicaCaughtUp(sql), 20_000);
    // The server reads the replica's position every 100 ms.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const transactions = async () => {
      const { rows } = await onReplica.query<{ n: string }>(
        "SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = 'postgres'",
      );
      return Number(rows[0]?.n);
    };
    const before = await transactions();
    for (let round = 0; round < ROUNDS; round += 1) {
      expect((await call("GET", `/api/crop-batches/${last}`)).status).toBe(200);
    }
    // Two reads each (the session's user, the batch); the replica's own position checks add about ten a second.
    // Statistics reach pg_stat_database when a backend goes idle, at most once a second: a backend that went idle
    // sooner after its last flush flushes 10 s later (PostgreSQL 15's PGSTAT_IDLE_INTERVAL). CI once saw 196 of 200
    // at 5 s.
    await expect
      .poll(async () => (await transactions()) - before, { timeout: 15_000 })
      .toBeGreaterThanOrEqual(2 * ROUNDS);
  });

  it("never keeps a pre-write verification in its cache after a change", async () => {
    const created = await call("POST", "/api/crop-batches", newBatch(farmId, { cropType: "replica-radish" }));
    const { tokenId } = created.body;
    await until(async () => (await call("GET", `/api/verify/${tokenId}`)).status === 200);
    expect((await call("GET", `/api/verify/${tokenId}`)).body.batch.stateName).toBe("harvested");
    const shipped = await call("POST", `/api/crop-batches/${tokenId}/events`, {
      action: "ship",
      location: { lat: 52.1, lng: 4.3 },
    });
    expect(shipped.status).toBe(201);
    // An anonymous scan (no read-after cookie) right after the change, and again after the replica has caught up.
    const anonymous = async () =>
      (await (await fetch(`${server.baseUrl}/api/verify/${tokenId}`)).json()) as { batch: { stateName: string } };
    expect((await anonymous()).batch.stateName).toBe("in_transit");
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect((await anonymous()).batch.stateName).toBe("in_transit");
  });

  it("sends reads to the primary when the replica stops: no 5xx, still ready", async () => {
    const created = await call("POST", "/api/crop-batches", newBatch(farmId, { cropType: "replica-radish" }));
    await replica.stop("immediate");
    const statuses: number[] = [];
    for (let round = 0; round < 50; round += 1) {
      statuses.push((await call("GET", `/api/crop-batches/${created.body.tokenId}`)).status);
      statuses.push((await fetch(`${server.baseUrl}/api/ready`)).status);
    }
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
  });
});
