import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PgCluster, pgCluster } from "@/deploy/local/pg-cluster";
import { type ServerProcess, startServerProcess } from "@/deploy/local/server-process";
import { startVarnish, type Varnish } from "@/deploy/local/varnish";
import { freePort } from "@/scripts/free-port.mjs";
import { newBatch } from "@/tests/support/api";
import { farmerWithFarm } from "@/tests/support/farmer";

// deploy/varnish.vcl (Debian's varnishd with vmod-xkey) in front of a server that purges it on every batch change.
describe("the shared page cache (Varnish) in front of a web instance", () => {
  let cluster: PgCluster;
  let sql: pg.Pool;
  let server: ServerProcess;
  let varnish: Varnish;
  const logDir = mkdtempSync(path.join(tmpdir(), "gl-varnish-test-"));

  beforeAll(async () => {
    if (!existsSync(".next/BUILD_ID")) throw new Error("This test runs the production server: `npm run build` first");
    if (!existsSync("/usr/sbin/varnishd")) throw new Error("varnishd is missing: npm test installs varnish (apt-get)");
    cluster = pgCluster();
    const { url } = await cluster.start();
    const varnishPort = await freePort();
    server = await startServerProcess("web", logDir, {
      DATABASE_URL: url,
      PURGE_URL: `http://127.0.0.1:${varnishPort}/`,
      PURGE_METHOD: "PURGE",
      TRUST_PROXY: "true",
    });
    varnish = await startVarnish(varnishPort, [{ host: "127.0.0.1", port: server.port }]);
    sql = new pg.Pool({ connectionString: url, max: 2 });
    sql.on("error", () => undefined);
  }, 180_000);

  afterAll(async () => {
    await sql?.end();
    await varnish?.stop();
    await server?.child.stop();
    await cluster?.destroy();
    if (!process.env.KEEP_LOGS) rmSync(logDir, { recursive: true, force: true });
  });

  const front = (pathname: string, init: RequestInit = {}) => fetch(`${varnish.url}${pathname}`, init);
  /** How many times the origin answered `route` (its own metrics, read past the cache). */
  const originAnswers = async (route: string) => {
    const text = await (await fetch(`${server.baseUrl}/api/metrics`)).text();
    return text
      .split("\n")
      .filter((line) => line.startsWith(`gl_http_request_duration_seconds_count{route="${route}"`))
      .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
  };

  /** A count once it has stopped moving: the origin counts an answer a moment after the client may have it. */
  const settled = async (count: () => Promise<number>) => {
    let last = await count();
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const now = await count();
      if (now === last) return now;
      last = now;
    }
  };

  it("answers a second anonymous /marketplace from the cache without rendering it again", async () => {
    // Waits out the backend probe's first two checks.
    await expect
      .poll(
        async () => {
          const page = await front("/marketplace");
          // Read to the end: the origin streams the page and counts it once the last byte is out.
          await page.arrayBuffer();
          return page.status;
        },
        { timeout: 10_000 },
      )
      .toBe(200);
    const before = await settled(() => originAnswers("/marketplace"));
    const miss = await front("/marketplace?crop=fresh-start");
    await miss.arrayBuffer();
    expect(miss.headers.get("x-cache")).toBe("miss");
    await expect.poll(() => originAnswers("/marketplace")).toBe(before + 1);
    const again = await front("/marketplace?crop=fresh-start");
    expect(again.status).toBe(200);
    expect(again.headers.get("x-cache")).toBe("hit");
    expect(again.headers.get("cache-control")).toBe("public, max-age=0, s-maxage=300, stale-while-revalidate=600");
    expect(await settled(() => originAnswers("/marketplace"))).toBe(before + 1);
  });

  it("never answers a signed-in user's own data from the cache", async () => {
    const [first, second] = [await farmerWithFarm(sql), await farmerWithFarm(sql)];
    for (const farmer of [first, second]) {
      await front("/api/crop-batches", {
        method: "POST",
        headers: { "content-type": "application/json", cookie: farmer.cookie, "idempotency-key": randomUUID() },
        body: JSON.stringify(newBatch(farmer.farmId, { cropType: `own-${farmer.farmId}` })),
      });
    }
    for (const farmer of [first, second, first]) {
      const mine = await front("/api/crop-batches", { headers: { cookie: farmer.cookie } });
      expect(mine.headers.get("x-cache")).toBe("miss");
      const body = (await mine.json()) as { results: { cropType: string }[] };
      expect(body.results.map((batch) => batch.cropType)).toEqual([`own-${farmer.farmId}`]);
    }
  });

  it("shows a batch listed for sale on the cached marketplace within 1 s", async () => {
    const { farmId, cookie } = await farmerWithFarm(sql);
    const cropType = `quince${Date.now()}`;
    expect(await (await front("/marketplace")).text()).not.toContain(cropType);
    expect((await front("/marketplace")).headers.get("x-cache")).toBe("hit");
    const created = await front("/api/crop-batches", {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify(newBatch(farmId, { cropType })),
    });
    expect(created.status).toBe(201);
    const listed = Date.now();
    await expect
      .poll(async () => (await (await front("/marketplace")).text()).includes(cropType), {
        timeout: 1_000,
        interval: 50,
      })
      .toBe(true);
    expect(Date.now() - listed).toBeLessThan(1_000);
  });

  it("says recalled on the next /verify and /api/verify after a recall", async () => {
    const { farmId, cookie } = await farmerWithFarm(sql);
    const created = await front("/api/crop-batches", {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify(newBatch(farmId, { cropType: "recall-rhubarb" })),
    });
    const { tokenId } = (await created.json()) as { tokenId: number };
    for (const pathname of [`/api/verify/${tokenId}`, `/verify/${tokenId}`]) {
      await front(pathname);
      expect((await front(pathname)).headers.get("x-cache")).toBe("hit");
    }
    const recalled = await front(`/api/crop-batches/${tokenId}/events`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({ action: "recall", reason: "Listeria found in a sample" }),
    });
    expect(recalled.status).toBe(201);
    const api = await front(`/api/verify/${tokenId}`);
    expect(((await api.json()) as { status: string }).status).toBe("recalled");
    expect(await (await front(`/verify/${tokenId}`)).text()).toContain("This batch has been recalled");
  });
  it("keeps an anonymous first page in the instance's own memory, never for an RSC request or a signed-in user", async () => {
    const origin = (init: RequestInit = {}) => fetch(`${server.baseUrl}/analytics`, init);
    await origin();
    const repeat = await origin();
    expect(repeat.headers.get("x-cache")).toBe("hit");
    expect(repeat.headers.get("content-type")).toMatch(/^text\/html/);
    const navigation = await origin({ headers: { rsc: "1" } });
    expect(navigation.headers.get("x-cache")).toBeNull();
    expect(navigation.headers.get("content-type")).toMatch(/^text\/x-component/);
    const { cookie } = await farmerWithFarm(sql);
    expect((await origin({ headers: { cookie } })).headers.get("x-cache")).toBeNull();
  });
});
