import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Shipment, seedShipments } from "@/bench/seed";
import { type LocalChain, startLocalChain } from "@/deploy/local/chain";
import { type PgCluster, pgCluster } from "@/deploy/local/pg-cluster";
import { type RedisServer, startRedisServer } from "@/deploy/local/redis-server";
import { type ServerProcess, startServerProcess } from "@/deploy/local/server-process";
import { createSessionCookie } from "@/lib/auth/session";
import { redisBus, type TrackingBus } from "@/lib/tracking/bus";
import { openStream, type SseStream } from "@/tests/support/sse";
import { until } from "@/tests/support/until";

const PREFIX = "live-streams:";
const RECHECK_SECONDS = 3;
// Shipments 0-3 for the idle, limit, re-check and slow-watcher cases; the rest carry the 1,000 watchers.
const CROWD_SHIPMENTS = 100;

const cookieOf = async (address: string) => (await createSessionCookie(address)).split(";")[0] ?? "";

async function metric(instance: ServerProcess, name: string): Promise<number> {
  const text = await (await fetch(`${instance.baseUrl}/api/metrics`)).text();
  const line = text.split("\n").find((row) => row.startsWith(`${name} `));
  return Number(line?.split(" ")[1] ?? Number.NaN);
}

function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? Number.NaN;
}

// Two web instances on one Redis and one PostgreSQL of the test's own, as behind a balancer.
describe("live streams on several instances", () => {
  let cluster: PgCluster;
  let redis: RedisServer;
  let chain: LocalChain;
  let a: ServerProcess;
  let b: ServerProcess;
  let sql: pg.Pool;
  let bus: TrackingBus;
  let shipments: Shipment[];
  let idle: SseStream;
  let idleOpenedAt: number;
  const open: SseStream[] = [];
  const logDir = mkdtempSync(path.join(tmpdir(), "gl-live-streams-"));

  const watch = async (instance: ServerProcess, shipment: Shipment, address = shipment.owner) => {
    const stream = await openStream(`${instance.baseUrl}/api/crop-batches/${shipment.tokenId}/live`, {
      cookie: await cookieOf(address),
    });
    open.push(stream);
    return stream;
  };

  beforeAll(async () => {
    cluster = pgCluster();
    const { url } = await cluster.start();
    redis = await startRedisServer();
    chain = await startLocalChain();
    shipments = await seedShipments(url, 4 + CROWD_SHIPMENTS);
    const shared = {
      ...chain.env,
      ROLE: "web",
      DATABASE_URL: url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: PREFIX,
      LIVE_RECHECK_SECONDS: String(RECHECK_SECONDS),
      // The 1,000 watchers all come from 127.0.0.1.
      LIVE_STREAMS_PER_ADDRESS: "5000",
    };
    a = await startServerProcess("web-a", logDir, shared);
    b = await startServerProcess("web-b", logDir, shared);
    sql = new pg.Pool({ connectionString: url, max: 2 });
    bus = redisBus(redis.url, PREFIX);
    // Opened first and never written to: the last test checks it is still open a minute later.
    idle = await watch(a, shipments[0] as Shipment);
    idleOpenedAt = Date.now();
    expect(idle.status).toBe(200);
  }, 180_000);

  afterAll(async () => {
    for (const stream of open) stream.close();
    await bus?.close();
    await sql?.end();
    await a?.child.stop();
    await b?.child.stop();
    await chain?.stop();
    await redis?.stop();
    await cluster?.destroy();
    if (!process.env.KEEP_LOGS) rmSync(logDir, { recursive: true, force: true });
  });

  it("counts a user's streams across instances: the 11th is refused on either, and a closed one frees a slot", async () => {
    const shipment = shipments[1] as Shipment;
    const streams = [
      ...(await Promise.all(Array.from({ length: 6 }, () => watch(a, shipment)))),
      ...(await Promise.all(Array.from({ length: 4 }, () => watch(b, shipment)))),
    ];
    expect(streams.map((stream) => stream.status)).toEqual(Array(10).fill(200));
    for (const instance of [a, b]) {
      const refused = await watch(instance, shipment);
      expect(refused.status).toBe(429);
      expect(refused.headers["retry-after"]).toBe("5");
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: "rate_limited" } });
    }
    streams[9]?.close();
    await until(async () => (await watch(a, shipment)).status === 200);
    for (const stream of open) if (stream !== idle) stream.close();
  });

  it("ends a stream within the re-check period once its watcher may no longer watch", async () => {
    const shipment = shipments[2] as Shipment;
    const carrier = await watch(b, shipment, shipment.transporter);
    const owner = await watch(b, shipment);
    expect([carrier.status, owner.status]).toEqual([200, 200]);
    // Handed on to another carrier: the first one no longer sees the truck, the owner still does.
    await sql.query("UPDATE crop_batches SET custodian_address = $1 WHERE token_id = $2", [
      (shipments[0] as Shipment).transporter,
      shipment.tokenId,
    ]);
    const handedOnAt = Date.now();
    await carrier.ended;
    expect(Date.now() - handedOnAt).toBeLessThan((RECHECK_SECONDS + 2) * 1000);
    await bus.publish(String(shipment.tokenId), { lat: 52, lng: 4.3, accuracy: 5, time: new Date() });
    expect(await owner.waitFor(1)).toHaveLength(1);
    owner.close();
  });

  it("closes a watcher that never reads within 10 s, while 1,000 others keep p99 within the 50 ms tracking SLA", async () => {
    const crowd = shipments.slice(4);
    const watchers = (
      await Promise.all(
        crowd.map(async (shipment, index) =>
          Promise.all(Array.from({ length: 10 }, () => watch(index % 2 ? a : b, shipment))),
        ),
      )
    ).flat();
    expect(watchers.filter((stream) => stream.status === 200)).toHaveLength(1_000);
    const onA = await metric(a, "gl_live_streams");

    // A client that asks for the stream and then reads nothing: what is sent to it piles up.
    const slow = shipments[3] as Shipment;
    const stalled = net.connect(a.port, "127.0.0.1");
    stalled.on("error", () => undefined);
    stalled.write(
      `GET /api/crop-batches/${slow.tokenId}/live HTTP/1.1\r\nhost: 127.0.0.1\r\ncookie: ${await cookieOf(slow.owner)}\r\n\r\n`,
    );
    stalled.pause();
    await until(async () => (await metric(a, "gl_live_streams")) === onA + 1);

    // The crowd: a fix on one of its batches every 10 ms, each batch once a second (1,000 deliveries/s), spread out as
    // phones send them. The slow watcher's batch: a flood, as a fix a second would take hours to fill the ~4 MB the
    // kernel buffers on loopback before Node holds the 64 KB that close it. The flood is a process of its own at the
    // lowest priority, so that it does not take the CPU the measured deliveries need.
    const fix = { lat: 52, lng: 4.3, accuracy: 5 };
    const seen = watchers.map((stream) => stream.events.length);
    let tick = 0;
    const crowdTimer = setInterval(() => {
      tick += 1;
      void bus.publish(String((crowd[tick % crowd.length] as Shipment).tokenId), { ...fix, time: new Date() });
    }, 10);
    const started = Date.now();
    const flood = spawn(
      "nice",
      [
        "-n",
        "19",
        process.execPath,
        "--import",
        "tsx",
        "tests/support/publish-flood.ts",
        redis.url,
        PREFIX,
        String(slow.tokenId),
      ],
      { env: { ...process.env, TSX_TSCONFIG_PATH: "tsconfig.server.json" }, stdio: "inherit" },
    );
    // Looked for four times a second: /api/metrics costs the server a few ms each time.
    let closedAfter = Number.POSITIVE_INFINITY;
    try {
      while (Date.now() - started < 10_000) {
        if ((await metric(a, "gl_live_slow_watchers_closed_total")) >= 1) {
          closedAfter = Date.now() - started;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } finally {
      flood.kill();
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    clearInterval(crowdTimer);
    const lags = watchers.flatMap((stream, index) =>
      stream.events
        .slice(seen[index])
        .filter((event) => event.data)
        .map(
          (event) =>
            (event.arrivedAt ?? 0) - Date.parse((JSON.parse(event.data ?? "") as { receivedAt: string }).receivedAt),
        ),
    );
    stalled.destroy();
    expect(await metric(a, "gl_live_slow_watchers_closed_total")).toBe(1);
    expect(closedAfter).toBeLessThan(10_000);
    expect(lags.length).toBeGreaterThan(1_000);
    // The bound is the tracking SLA: the lag includes this test process, which parses all 1,000 streams on a shared
    // 2-core machine; bench:live measures how far below it a server alone stays.
    expect(percentile(lags, 0.99)).toBeLessThan(50);
    for (const stream of watchers) stream.close();
  });

  it("shows a consumer where a shipment is, to about 10 km and never near its farm", async () => {
    const shipment = shipments[1] as Shipment;
    // The seeded farms are at 52.0, 4.2: the first fix is at the farm gate.
    for (const [lat, lng] of [
      [52.0004, 4.2003],
      [52.51, 4.91],
      [52.53, 4.94],
    ] as const) {
      await bus.publish(String(shipment.tokenId), { lat, lng, accuracy: 5, time: new Date() });
    }
    const page = await fetch(`${b.baseUrl}/verify/${shipment.tokenId}`);
    expect(page.status).toBe(200);
    const html = (await page.text()).replaceAll("<!-- -->", "");
    expect(html).toContain("On its way");
    expect(html).toMatch(/Last reported near 52\.5, 4\.9 at/);
    expect(html).not.toMatch(/52\.000|4\.200|52\.51|4\.91|52\.53|4\.94|near 52, 4\.2/);
  });

  it("keeps an idle stream open for a minute with a heartbeat every 15 s", async () => {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, idleOpenedAt + 61_000 - Date.now())));
    let ended = false;
    void idle.ended.then(() => {
      ended = true;
    });
    await Promise.resolve();
    expect(ended).toBe(false);
    expect(idle.comments.length).toBeGreaterThanOrEqual(4);
    const gaps = idle.comments.slice(1).map((at, index) => at - (idle.comments[index] ?? 0));
    for (const gap of gaps) expect(gap).toBeLessThan(16_000);
    expect(Date.now() - (idle.comments.at(-1) ?? 0)).toBeLessThan(16_000);
  }, 90_000);
});
