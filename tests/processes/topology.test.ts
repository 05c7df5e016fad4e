import { randomUUID } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTopology, type Topology } from "@/deploy/local/topology";
import { newBatch } from "@/tests/support/api";
import { farmerWithFarm } from "@/tests/support/farmer";
import { replicaCaughtUp } from "@/tests/support/replica";
import { until } from "@/tests/support/until";

const LOAD_CONNECTIONS = 8;

/**
 * GETs from `connections` loops through the front door until `stop` resolves: every status, and every request that
 * failed twice in a row.
 */
async function underLoad(url: string, stop: Promise<unknown>) {
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  let running = true;
  void stop.then(() => {
    running = false;
  });
  await Promise.all(
    Array.from({ length: LOAD_CONNECTIONS }, async () => {
      while (running) {
        // As a browser does with an idempotent request whose connection closed under it: one more try.
        for (let attempt = 1; attempt <= 2; attempt += 1) {
          try {
            const response = await fetch(url);
            await response.arrayBuffer();
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
            break;
          } catch (error) {
            if (attempt === 2) failures.push(String((error as Error).cause ?? error));
          }
        }
      }
    }),
  );
  return { statuses: Object.fromEntries(statuses), failures };
}

// `npm run topology` as a test: PostgreSQL primary and replica (applying WAL a second late), Redis, anvil, two
// workers, two web instances, Varnish and HAProxy, all of the test's own.
describe("the topology: many instances behind HAProxy", () => {
  let topology: Topology;
  let coldStartMs: number;
  let sql: pg.Pool;
  let farmer: { farmId: number; cookie: string };

  beforeAll(async () => {
    if (!existsSync(".next/BUILD_ID")) throw new Error("This test runs the production server: `npm run build` first");
    const started = Date.now();
    // The test signs its farmer's session cookie with the same secret.
    topology = await startTopology({ replicaApplyDelay: "1s", sessionSecret: process.env.SESSION_SECRET });
    coldStartMs = Date.now() - started;
    sql = new pg.Pool({ connectionString: topology.databaseUrl, max: 2 });
    sql.on("error", () => undefined);
    farmer = await farmerWithFarm(sql);
    // A signed-in request reads its user from the replica: the farmer must have reached it.
    await until(() => replicaCaughtUp(sql), 20_000);
  }, 180_000);

  /** A create through the front door, sent again with the same key and body until it is acknowledged. */
  const createOnce = async (cropType: string) => {
    const body = JSON.stringify(newBatch(farmer.farmId, { cropType }));
    const key = randomUUID();
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const response = await fetch(`${topology.url}/api/crop-batches`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: farmer.cookie, "idempotency-key": key },
        body,
      }).catch(() => null);
      if (response?.status === 201 || response?.status === 200) {
        const readAfter = response.headers.getSetCookie().find((line) => line.startsWith("gl-read-after="));
        return { ...((await response.json()) as { tokenId: number; clientId: string }), readAfter };
      }
      await response?.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("a create was never acknowledged");
  };

  afterAll(async () => {
    await sql?.end();
    await topology?.stop();
    if (topology && !process.env.KEEP_LOGS) rmSync(topology.logDir, { recursive: true, force: true });
  });

  it("starts cold in under 60 s with every instance ready and the replica streaming", async () => {
    console.log(`topology cold start: every instance ready in ${coldStartMs} ms`);
    expect(coldStartMs).toBeLessThan(60_000);
    for (const instance of [...topology.web, ...topology.workers]) {
      expect((await fetch(`${instance.baseUrl}/api/ready`)).status).toBe(200);
    }
    const sql = new pg.Pool({ connectionString: topology.databaseUrl, max: 1 });
    try {
      const { rows } = await sql.query<{ state: string }>("SELECT state FROM pg_stat_replication");
      expect(rows.map((row) => row.state)).toEqual(["streaming"]);
    } finally {
      await sql.end();
    }
    expect((await fetch(`${topology.url}/marketplace`)).status).toBe(200);
  });

  it("shows each write to the next read through the front door, though the replica is a second behind", async () => {
    let shown = 0;
    for (let round = 0; round < 50; round += 1) {
      const created = await createOnce("topology-turnip");
      const read = await fetch(`${topology.url}/api/crop-batches/${created.tokenId}`, {
        headers: { cookie: `${farmer.cookie}; ${created.readAfter?.split(";")[0]}` },
      });
      if (read.status === 200 && ((await read.json()) as { clientId: string }).clientId === created.clientId)
        shown += 1;
    }
    expect(shown).toBe(50);
  });

  it("says recalled on the next /verify and /api/verify through the front door", async () => {
    const { tokenId } = await createOnce("topology-turnip");
    for (const pathname of [`/api/verify/${tokenId}`, `/verify/${tokenId}`]) {
      await (await fetch(`${topology.url}${pathname}`)).arrayBuffer();
      expect((await fetch(`${topology.url}${pathname}`)).headers.get("x-cache")).toBe("hit");
    }
    const recalled = await fetch(`${topology.url}/api/crop-batches/${tokenId}/events`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: farmer.cookie },
      body: JSON.stringify({ action: "recall", reason: "Mislabelled allergens" }),
    });
    expect(recalled.status).toBe(201);
    const api = (await (await fetch(`${topology.url}/api/verify/${tokenId}`)).json()) as { status: string };
    expect(api.status).toBe("recalled");
    expect(await (await fetch(`${topology.url}/verify/${tokenId}`)).text()).toContain("This batch has been recalled");
  });

  it("answers every request while a web instance drains on SIGTERM", async () => {
    const [, draining] = topology.web;
    if (!draining) throw new Error("no second web instance");
    const exited = until(async () => draining.child.exited, 30_000);
    const load = underLoad(`${topology.url}/api/health`, exited);
    await new Promise((resolve) => setTimeout(resolve, 500));
    process.kill(draining.child.pid, "SIGTERM");
    const { statuses, failures } = await load;
    expect(failures).toEqual([]);
    expect(Object.keys(statuses)).toEqual(["200"]);
    expect(draining.child.exitCode).toBe(0);
    // Back on the same port, so the balancer and the page cache find it again.
    topology.web[1] = await topology.startInstance("web", "web2-again", draining.port);
  });

  it("loses no GET and stores each replayed create once when a web instance is killed -9 under load", async () => {
    // Until HAProxy's checks have seen the restarted instance up, all load would go to the one this test kills.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const [killed] = topology.web;
    if (!killed) throw new Error("no web instance");
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const load = underLoad(`${topology.url}/api/health`, finished);
    // Creates alongside: a client that sends each again with its key until acknowledged.
    const acknowledged: string[] = [];
    let creating = true;
    const creates = (async () => {
      while (creating) acknowledged.push((await createOnce("topology-kill")).clientId);
    })();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await killed.child.kill();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    done();
    creating = false;
    const { statuses, failures } = await load;
    await creates;
    expect(failures).toEqual([]);
    expect(Object.keys(statuses)).toEqual(["200"]);
    const { rows } = await sql.query<{ client_id: string }>(
      "SELECT client_id FROM crop_batches WHERE crop_type = 'topology-kill'",
    );
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(rows.map((row) => row.client_id).sort()).toEqual([...acknowledged].sort());
  });
});
