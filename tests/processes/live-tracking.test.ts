import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PgCluster, pgCluster } from "@/deploy/local/pg-cluster";
import { type RedisServer, startRedisServer } from "@/deploy/local/redis-server";
import { type ServerProcess, startServerProcess } from "@/deploy/local/server-process";
import { createSessionCookie } from "@/lib/auth/session";
import { newBatch } from "@/tests/support/api";
import { farmerWithFarm } from "@/tests/support/farmer";
import { openStream } from "@/tests/support/sse";

type Fix = { lat: number; lng: number; accuracy: number; time: string };

// A server on a Redis of the test's own, killed and started again (empty: it saves nothing) while a phone posts.
describe("live tracking across a Redis restart", () => {
  let cluster: PgCluster;
  let redis: RedisServer;
  let server: ServerProcess;
  let sql: pg.Pool;
  let farmerCookie: string;
  let transporterCookie: string;
  let tokenId: number;
  const logDir = mkdtempSync(path.join(tmpdir(), "gl-live-test-"));

  beforeAll(async () => {
    cluster = pgCluster();
    const { url } = await cluster.start();
    redis = await startRedisServer();
    server = await startServerProcess("web", logDir, {
      DATABASE_URL: url,
      REDIS_URL: redis.url,
      RATE_LIMIT_POSITIONS_POINTS: "100000",
    });
    sql = new pg.Pool({ connectionString: url, max: 2 });
    const farmer = await farmerWithFarm(sql);
    farmerCookie = farmer.cookie;
    const transporter = `0x${"7".repeat(40)}`;
    await sql.query("INSERT INTO users (address, role) VALUES ($1, 'transporter')", [transporter]);
    transporterCookie = (await createSessionCookie(transporter)).split(";")[0] ?? "";
    const created = await fetch(`${server.baseUrl}/api/crop-batches`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: farmerCookie },
      body: JSON.stringify(newBatch(farmer.farmId)),
    });
    tokenId = ((await created.json()) as { tokenId: number }).tokenId;
    const shipped = await fetch(`${server.baseUrl}/api/crop-batches/${tokenId}/events`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: farmerCookie },
      body: JSON.stringify({ action: "ship", transporter, location: { lat: 52.1, lng: 4.3 } }),
    });
    expect(shipped.status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    await sql?.end();
    await server?.child.stop();
    await redis?.stop();
    await cluster?.destroy();
    if (!process.env.KEEP_LOGS) rmSync(logDir, { recursive: true, force: true });
  });

  it("delivers every accepted fix once and in order; posts while Redis is away get 503 and are sent again", async () => {
    const watcher = await openStream(`${server.baseUrl}/api/crop-batches/${tokenId}/live`, { cookie: farmerCookie });
    expect(watcher.status).toBe(200);
    let step = 0;
    let unsent: Fix[] = [];
    const accepted: Fix[] = [];
    const refusals: { status: number; retryAfter: string | null }[] = [];
    // The phone: a fix each tick, kept until the server took it, sent with the next tick's when refused.
    const tick = async (): Promise<boolean> => {
      step += 1;
      unsent.push({ lat: 52 + step * 0.00001, lng: 4.3, accuracy: 5, time: new Date().toISOString() });
      const answer = await fetch(`${server.baseUrl}/api/transporters/me/positions`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: transporterCookie },
        body: JSON.stringify({ fixes: unsent }),
      });
      if (answer.status !== 200) {
        refusals.push({ status: answer.status, retryAfter: answer.headers.get("retry-after") });
        return false;
      }
      const body = (await answer.json()) as { accepted: number; rejected: unknown[] };
      expect(body.rejected).toEqual([]);
      accepted.push(...unsent);
      unsent = [];
      return true;
    };
    const ticks = async (count: number) => {
      for (let index = 0; index < count; index += 1) {
        await tick();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };

    await ticks(10);
    await watcher.waitFor(accepted.length);
    await redis.kill();
    await ticks(5);
    expect(refusals.length).toBeGreaterThanOrEqual(5);
    expect(refusals.every((refusal) => refusal.status === 503 && refusal.retryAfter !== null)).toBe(true);

    await redis.start();
    const restartedAt = Date.now();
    while (!(await tick())) {
      expect(Date.now() - restartedAt).toBeLessThan(5_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await watcher.waitFor(accepted.length, 5_000 - (Date.now() - restartedAt));
    const resumedWithin = Date.now() - restartedAt;
    await ticks(10);

    const delivered = await watcher.waitFor(accepted.length);
    expect(delivered.map((event) => (JSON.parse(event.data ?? "") as Fix).time)).toEqual(
      accepted.map((fix) => fix.time),
    );
    const ids = delivered.map((event) => Number(event.id));
    expect(ids.every((id, index) => index === 0 || id > (ids[index - 1] ?? 0))).toBe(true);
    expect(resumedWithin).toBeLessThan(5_000);
    watcher.close();
  });
});
