import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalChain, startLocalChain } from "@/deploy/local/chain";
import { type PgCluster, pgCluster } from "@/deploy/local/pg-cluster";
import { type RedisServer, startRedisServer } from "@/deploy/local/redis-server";
import { type ServerProcess, startServerProcess } from "@/deploy/local/server-process";
import type { TraceAnalysis } from "@/lib/observability/critical-path";
import { newBatch } from "@/tests/support/api";
import { farmerWithFarm } from "@/tests/support/farmer";

type OtlpSpan = { traceId: string; spanId: string; parentSpanId?: string; name: string; attributes: OtlpAttribute[] };
type OtlpAttribute = { key: string; value: { stringValue?: string; intValue?: string | number; boolValue?: boolean } };
type OtlpExport = { resourceSpans: { scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[] }[] };
type ReceivedSpan = OtlpSpan & { scope: string };
type Receiver = { url: string; spans: ReceivedSpan[]; close(): Promise<void> };

/** An OTLP/HTTP receiver (JSON, as the exporter sends it) on a free loopback port that keeps every span. */
async function startOtlpReceiver(): Promise<Receiver> {
  const spans: Receiver["spans"] = [];
  const server = http.createServer(async (request, response) => {
    const body = JSON.parse(Buffer.concat(await request.toArray()).toString()) as OtlpExport;
    if (request.url === "/v1/traces") {
      for (const resource of body.resourceSpans) {
        for (const scoped of resource.scopeSpans)
          spans.push(...scoped.spans.map((span) => ({ ...span, scope: scoped.scope.name })));
      }
    }
    response.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((entry) => entry.key === key)?.value;
  return value?.stringValue ?? value?.intValue ?? value?.boolValue;
};

const METRICS_TOKEN = randomBytes(16).toString("hex");

/** A sampled W3C traceparent for a new trace, as a caller already tracing would send it. */
function traceparent(): { traceId: string; header: string } {
  const traceId = randomBytes(16).toString("hex");
  return { traceId, header: `00-${traceId}-${randomBytes(8).toString("hex")}-01` };
}

// One server at the default sampling (1 %): a caller's sampled traceparent decides, as in production.
describe("tracing: one trace per request, exported over OTLP", () => {
  let cluster: PgCluster;
  let redis: RedisServer;
  let chain: LocalChain;
  let receiver: Receiver;
  let server: ServerProcess;
  let sql: pg.Pool;
  let cookie: string;
  let farmId: number;
  const logDir = mkdtempSync(path.join(tmpdir(), "gl-tracing-"));

  beforeAll(async () => {
    if (!existsSync(".next/BUILD_ID")) throw new Error("This test runs the production server: `npm run build` first");
    receiver = await startOtlpReceiver();
    cluster = pgCluster();
    const [{ url }, startedRedis, startedChain] = await Promise.all([
      cluster.start(),
      startRedisServer(),
      startLocalChain(),
    ]);
    redis = startedRedis;
    chain = startedChain;
    server = await startServerProcess("server", logDir, {
      ROLE: "all",
      DATABASE_URL: url,
      REDIS_URL: redis.url,
      ...chain.env,
      RELAYER_PRIVATE_KEY: chain.relayerKey,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: "100",
      METRICS_TOKEN,
    });
    sql = new pg.Pool({ connectionString: url, max: 2 });
    ({ cookie, farmId } = await farmerWithFarm(sql));
  }, 120_000);

  afterAll(async () => {
    await sql?.end();
    await server?.child.stop();
    await receiver?.close();
    await Promise.all([chain?.stop(), redis?.stop()]);
    await cluster?.destroy();
    if (!process.env.KEEP_LOGS) rmSync(logDir, { recursive: true, force: true });
  });

  it("traces a request through the gateway and Next with its PostgreSQL and Redis spans as children", async () => {
    const { traceId, header } = traceparent();
    const response = await fetch(`${server.baseUrl}/api/crop-batches`, { headers: { cookie, traceparent: header } });
    expect(response.status).toBe(200);
    await expect
      .poll(() => receiver.spans.some((span) => span.traceId === traceId && span.name === "GET /api/crop-batches"))
      .toBe(true);
    const spans = receiver.spans.filter((span) => span.traceId === traceId);
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const root = spans.find((span) => span.scope === "greenledger" && span.name === "GET /api/crop-batches");
    expect(attribute(root as OtlpSpan, "http.response.status_code")).toBe(200);
    // Every span of the trace hangs from the gateway's, through Next's own.
    const ancestors = (span: ReceivedSpan): ReceivedSpan[] => {
      const parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
      return parent ? [parent, ...ancestors(parent)] : [];
    };
    const database = spans.filter((span) => attribute(span, "db.system.name") === "postgresql");
    const redis = spans.filter((span) => attribute(span, "db.system.name") === "redis");
    // The farmer's batches, read in Next's route handler.
    expect(database.some((span) => String(attribute(span, "db.query.text")).includes("FROM crop_batches"))).toBe(true);
    // The gateway's rate limit, counted in Redis before the request reaches Next.
    expect(redis.some((span) => attribute(span, "db.operation.name") === "evalsha")).toBe(true);
    for (const span of [...database, ...redis]) expect(ancestors(span).at(-1)?.spanId).toBe(root?.spanId);
    for (const span of database) expect(ancestors(span).some((ancestor) => ancestor.scope === "next.js")).toBe(true);
    // The access line of a traced request carries its trace id.
    const logged = readFileSync(path.join(logDir, "server.log"), "utf8")
      .split("\n")
      .filter((line) => line.includes(traceId));
    expect(logged.some((line) => line.includes('"msg":"request traced"') && line.includes('"status":200'))).toBe(true);
  });

  it("does not trace a request whose caller did not sample it", async () => {
    const traceId = randomBytes(16).toString("hex");
    const response = await fetch(`${server.baseUrl}/api/crop-batches`, {
      headers: { cookie, traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-00` },
    });
    expect(response.status).toBe(200);
    // A sampled request sent after it is exported; by then the unsampled one would have been too.
    const { traceId: later, header } = traceparent();
    await fetch(`${server.baseUrl}/api/health`, { headers: { traceparent: header } });
    await expect.poll(() => receiver.spans.some((span) => span.traceId === later)).toBe(true);
    expect(receiver.spans.filter((span) => span.traceId === traceId)).toEqual([]);
  });

  it("names what dominates a cold verification and what to do about it (npm run trace:analyze)", async () => {
    const created = await fetch(`${server.baseUrl}/api/crop-batches`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify(newBatch(farmId, { cropType: "traced-turnip" })),
    });
    expect(created.status).toBe(201);
    const { tokenId } = (await created.json()) as { tokenId: number };
    const { traceId, header } = traceparent();
    const verified = await fetch(`${server.baseUrl}/api/verify/${tokenId}`, { headers: { traceparent: header } });
    expect(verified.status).toBe(200);
    // The analysis as the admin endpoint gives it to an operator's tool.
    const viaApi = await fetch(`${server.baseUrl}/api/operations/traces/${traceId}`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(viaApi.status).toBe(200);
    const analysis = (await viaApi.json()) as TraceAnalysis;
    expect(analysis.root.name).toBe("GET /api/verify/:id");
    // A cold verification waits on its one read of the batch: the cache did not hold it.
    const dominant = analysis.dominant;
    expect(dominant?.span.attributes["db.system.name"]).toBe("postgresql");
    expect(String(dominant?.span.attributes["db.query.text"])).toContain("FROM crop_batches b");
    expect(dominant?.onPathMs).toBeGreaterThan(analysis.root.durationMs / 2);
    expect(dominant?.recommendations).toContainEqual(expect.stringContaining("sits behind the cache"));
    // The read ran under the cache's miss, which the exported trace shows as its parent.
    await expect
      .poll(() => receiver.spans.find((span) => span.traceId === traceId && span.spanId === dominant?.span.spanId))
      .toBeDefined();
    const miss = receiver.spans.find((span) => span.spanId === dominant?.span.parentSpanId);
    expect(miss?.name).toMatch(/^cache miss /);
    expect(attribute(miss as OtlpSpan, "gl.cache.result")).toBe("miss");
    // The same, printed by the command.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "scripts/trace-analyze.ts", traceId, "--url", server.baseUrl],
      { env: { ...process.env, METRICS_TOKEN, TSX_TSCONFIG_PATH: "tsconfig.server.json" } },
    );
    expect(stdout).toContain(`trace ${traceId}: GET /api/verify/:id`);
    const lines = stdout.split("\n");
    expect(lines.some((line) => line.includes(` ${dominant?.span.name}: `) && line.endsWith("<- dominates"))).toBe(
      true,
    );
    expect(stdout).toContain("sits behind the cache");
  });

  it("keeps trace analyses from anyone but admins and operators' tools", async () => {
    const traceId = randomBytes(16).toString("hex");
    expect((await fetch(`${server.baseUrl}/api/operations/traces/${traceId}`)).status).toBe(401);
    expect((await fetch(`${server.baseUrl}/api/operations/traces/${traceId}`, { headers: { cookie } })).status).toBe(
      403,
    );
    const unknown = await fetch(`${server.baseUrl}/api/operations/traces/${traceId}`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(unknown.status).toBe(404);
    const malformed = await fetch(`${server.baseUrl}/api/operations/traces/not-a-trace`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe("bad_request");
  });
});
