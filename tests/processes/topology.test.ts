import { existsSync, rmSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTopology, type Topology } from "@/deploy/local/topology";
import { until } from "@/tests/support/until";

const LOAD_CONNECTIONS = 8;

/** GETs from `connections` loops through the front door until `stop` resolves: every status, and every failure. */
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
        try {
          const response = await fetch(url);
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        } catch (error) {
          failures.push(String((error as Error).cause ?? error));
        }
      }
    }),
  );
  return { statuses: Object.fromEntries(statuses), failures };
}

// `npm run topology` as a test: PostgreSQL primary and replica, Redis, anvil, two workers, two web instances,
// Varnish and HAProxy, all of the test's own.
describe("the topology: many instances behind HAProxy", () => {
  let topology: Topology;
  let coldStartMs: number;

  beforeAll(async () => {
    if (!existsSync(".next/BUILD_ID")) throw new Error("This test runs the production server: `npm run build` first");
    const started = Date.now();
    topology = await startTopology();
    coldStartMs = Date.now() - started;
  }, 180_000);

  afterAll(async () => {
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

  it("loses no GET when a web instance is killed -9 under load", async () => {
    // Until HAProxy's checks have seen the restarted instance up, all load would go to the one this test kills.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const [killed] = topology.web;
    if (!killed) throw new Error("no web instance");
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const load = underLoad(`${topology.url}/api/health`, finished);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await killed.child.kill();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    done();
    const { statuses, failures } = await load;
    expect(failures).toEqual([]);
    expect(Object.keys(statuses)).toEqual(["200"]);
  });
});
