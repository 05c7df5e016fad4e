import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accepts } from "@/deploy/local/daemon";
import { type PgCluster, pgCluster } from "@/deploy/local/pg-cluster";
import { type ServerProcess, startServerProcess } from "@/deploy/local/server-process";
import { newBatch } from "@/tests/support/api";
import { farmerWithFarm } from "@/tests/support/farmer";
import { until } from "@/tests/support/until";

const NOTICE_SECONDS = 1;

/** Resolves with the raw HTTP answer once the server has written one and closed the connection. */
function answerOf(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString();
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(text));
  });
}

describe("SIGTERM drains a web instance", () => {
  let cluster: PgCluster;
  let sql: pg.Pool;
  let server: ServerProcess;
  const logDir = mkdtempSync(path.join(tmpdir(), "gl-drain-"));

  beforeAll(async () => {
    if (!existsSync(".next/BUILD_ID")) throw new Error("This test runs the production server: `npm run build` first");
    cluster = pgCluster();
    const { url } = await cluster.start();
    server = await startServerProcess("web", logDir, {
      DATABASE_URL: url,
      SHUTDOWN_NOTICE_SECONDS: String(NOTICE_SECONDS),
    });
    sql = new pg.Pool({ connectionString: url, max: 2 });
    sql.on("error", () => undefined);
  }, 120_000);

  afterAll(async () => {
    await sql?.end();
    await server?.child.stop();
    await cluster?.destroy();
    if (!process.env.KEEP_LOGS) rmSync(logDir, { recursive: true, force: true });
  });

  it("is not ready at once, keeps serving through the notice, finishes the request in flight, and exits 0", async () => {
    const { farmId, cookie } = await farmerWithFarm(sql);
    const input = newBatch(farmId, { cropType: "drain-pepper" });
    const body = JSON.stringify(input);
    // A create whose body is still arriving when the signal comes: in flight across the whole drain.
    const inFlight = net.connect(server.port, "127.0.0.1");
    await new Promise((resolve) => inFlight.once("connect", resolve));
    const answered = answerOf(inFlight);
    inFlight.write(
      `POST /api/crop-batches HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nCookie: ${cookie}\r\nIdempotency-Key: ${randomUUID()}\r\n\r\n` +
        body.slice(0, 10),
    );

    // A balancer's keep-alive traffic until the notice is over: none may see a 5xx or a connection cut under a
    // request. It stops just before the listener closes, as a balancer that has seen the instance not ready does:
    // a connection still in the kernel's accept queue when the listener closes is reset, never read.
    const statuses: number[] = [];
    const failures: string[] = [];
    let sendUntil = Number.POSITIVE_INFINITY;
    const reader = (async () => {
      while (Date.now() < sendUntil) {
        try {
          const response = await fetch(`${server.baseUrl}/api/health`);
          await response.arrayBuffer();
          statuses.push(response.status);
        } catch (error) {
          failures.push(((error as Error).cause as NodeJS.ErrnoException | undefined)?.code ?? String(error));
        }
      }
    })();
    await until(async () => statuses.length >= 5);

    process.kill(server.child.pid, "SIGTERM");
    const signalled = Date.now();
    sendUntil = signalled + NOTICE_SECONDS * 1000 - 150;
    await until(async () => (await fetch(`${server.baseUrl}/api/ready`)).status === 503, 2_000);
    const notReadyAfter = Date.now() - signalled;
    const servedBeforeClose = statuses.length;
    await until(async () => !(await accepts(server.port)), 10_000);
    const refusedAfter = Date.now() - signalled;

    // write, not end: a client that half-closes its side abandons its request in node:http.
    inFlight.write(body.slice(10));
    const answer = await answered;
    await reader;
    await until(async () => server.child.exited, 10_000);

    expect(answer).toMatch(/^HTTP\/1\.1 201 /);
    expect(answer.toLowerCase()).toContain("connection: close");
    expect(notReadyAfter).toBeLessThan(1_000);
    expect(refusedAfter).toBeGreaterThanOrEqual(NOTICE_SECONDS * 1000);
    expect(statuses.length).toBeGreaterThan(servedBeforeClose);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(failures).toEqual([]);
    expect(server.child.exitCode).toBe(0);
    const rows = await sql.query("SELECT 1 FROM crop_batches WHERE client_id = $1", [input.clientId]);
    expect(rows.rowCount).toBe(1);
  });
});
