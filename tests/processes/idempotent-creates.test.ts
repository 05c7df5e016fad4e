import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Child } from "@/bench/processes";
import { type PgCluster, pgCluster } from "@/deploy/local/pg-cluster";
import { startServerProcess } from "@/deploy/local/server-process";
import { newBatch } from "@/tests/support/api";
import { farmerWithFarm } from "@/tests/support/farmer";
import { until } from "@/tests/support/until";

// The real server process (its own pools see the crash) on a PostgreSQL cluster of the test's own that it kills.
const TOTAL = 1_000;
const CONCURRENCY = 16;
const KILL_AFTER_ACKS = Math.floor(TOTAL / 3);
const DOWN_MS = 2_000;
const ACK_WITHIN_MS = 5_000;
// A client gives up on a request this long after the restart, so a blocked key fails the test instead of stalling it.
const GIVE_UP_AFTER_MS = 15_000;
const RETRY_PAUSE_MS = 100;

type Attempt = { status: number; body: { tokenId?: number; clientId?: string; error?: { code: string } } | null };

describe("idempotent creates across a PostgreSQL crash (kill -9)", () => {
  let cluster: PgCluster;
  let sql: pg.Pool;
  let server: Child;
  let baseUrl: string;
  let cookie: string;
  let owner: string;
  let farmId: number;
  const logDir = mkdtempSync(path.join(tmpdir(), "gl-crash-"));

  beforeAll(async () => {
    if (!existsSync(".next/BUILD_ID")) throw new Error("This test runs the production server: `npm run build` first");
    cluster = pgCluster();
    const { url } = await cluster.start();
    ({ child: server, baseUrl } = await startServerProcess("server", logDir, {
      DATABASE_URL: url,
      LOG_LEVEL: "warn",
    }));
    sql = new pg.Pool({ connectionString: url, max: 2 });
    sql.on("error", () => undefined);
    ({ owner, farmId, cookie } = await farmerWithFarm(sql));
  }, 120_000);

  afterAll(async () => {
    await sql?.end();
    await server?.stop();
    await cluster?.destroy();
    rmSync(logDir, { recursive: true, force: true });
  });

  const post = async (body: unknown, key: string): Promise<Attempt> => {
    const response = await fetch(`${baseUrl}/api/crop-batches`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie, "idempotency-key": key },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };

  /** Holds the insert of batches of this crop type `seconds` long, as a slow first request would be. */
  const holdCrop = async (cropType: string, seconds: number) => {
    await sql.query(
      `CREATE OR REPLACE FUNCTION gl_test_hold() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN PERFORM pg_sleep(${seconds}); RETURN NEW; END $$`,
    );
    await sql.query(
      `CREATE OR REPLACE TRIGGER gl_test_hold BEFORE INSERT ON crop_batches FOR EACH ROW
       WHEN (NEW.crop_type = '${cropType}') EXECUTE FUNCTION gl_test_hold()`,
    );
  };
  const releaseHold = () => sql.query("DROP FUNCTION IF EXISTS gl_test_hold() CASCADE");
  /** Server backends waiting on `what`: a wait event (PgSleep) or a wait event type (Lock). */
  const waiting = async (what: string) => {
    const { rows } = await sql.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE $1 IN (wait_event, wait_event_type)",
      [what],
    );
    return Number(rows[0]?.n);
  };

  it("a retry while the first request still runs waits for it and replays its answer", async () => {
    const input = newBatch(farmId, { cropType: "held-briefly" });
    const key = randomUUID();
    await holdCrop("held-briefly", 1.5);
    try {
      const first = post(input, key);
      await until(async () => (await waiting("PgSleep")) === 1);
      const retry = post(input, key);
      // The retry waits on the first one's claim of the key (an uncommitted row), not on anything of its own.
      await until(async () => (await waiting("Lock")) === 1);
      const [answered, replayed] = await Promise.all([first, retry]);
      expect(answered.status).toBe(201);
      expect(replayed.status).toBe(201);
      expect(replayed.body).toEqual(answered.body);
    } finally {
      await releaseHold();
    }
    const rows = await sql.query("SELECT 1 FROM crop_batches WHERE client_id = $1", [input.clientId]);
    expect(rows.rowCount).toBe(1);
  });

  it("answers 409 to a retry after waiting 2 s for a first request that runs on, and replays once it has finished", async () => {
    const input = newBatch(farmId, { cropType: "held-long" });
    const key = randomUUID();
    await holdCrop("held-long", 3);
    let first: Promise<Attempt>;
    let retry: Attempt;
    let waited: number;
    try {
      first = post(input, key);
      await until(async () => (await waiting("PgSleep")) === 1);
      const asked = Date.now();
      retry = await post(input, key);
      waited = Date.now() - asked;
    } finally {
      await releaseHold();
    }
    expect(waited).toBeGreaterThanOrEqual(2_000);
    expect(retry.status).toBe(409);
    expect(retry.body).toEqual({ error: { code: "idempotency_request_in_progress", message: expect.any(String) } });
    const answered = await first;
    expect(answered.status).toBe(201);
    const later = await post(input, key);
    expect(later.status).toBe(201);
    expect(later.body).toEqual(answered.body);
  });

  it(`acknowledges each of ${TOTAL} creates within ${ACK_WITHIN_MS / 1000} s of a restart after kill -9, each once`, async () => {
    const requests = Array.from({ length: TOTAL }, () => {
      const body = newBatch(farmId, { cropType: "crash-tomato" });
      return { body, key: randomUUID(), sentAt: 0, conflicts: 0, failures: 0, tokenId: 0, ackedAt: 0 };
    });
    const started = Date.now();
    let acked = 0;
    let killedAt = 0;
    let restartIssuedAt = 0;
    let restartedAt = 0;
    const unexpected: string[] = [];
    const failureKinds = new Map<string, number>();
    let crash: Promise<void> | undefined;
    const crashOnce = () => {
      crash ??= (async () => {
        await cluster.kill9();
        killedAt = Date.now();
        await delay(DOWN_MS);
        restartIssuedAt = Date.now();
        await cluster.start();
        restartedAt = Date.now();
      })();
    };
    // How long a request waited for its answer past the restart, or past its own first try if that came later.
    const waitedPastRestart = (request: (typeof requests)[number]) =>
      request.ackedAt - Math.max(request.sentAt, restartIssuedAt);

    const send = async (request: (typeof requests)[number]) => {
      request.sentAt = Date.now();
      for (;;) {
        const answer = await post(request.body, request.key).catch(() => null);
        if (answer && (answer.status === 201 || answer.status === 200)) {
          request.tokenId = answer.body?.tokenId ?? 0;
          request.ackedAt = Date.now();
          acked += 1;
          if (acked === KILL_AFTER_ACKS) crashOnce();
          return;
        }
        if (answer?.status === 409 && answer.body?.error?.code === "idempotency_request_in_progress") {
          request.conflicts += 1;
        } else if (answer === null || answer.status >= 500) {
          request.failures += 1;
          const kind = answer ? `${answer.status} ${answer.body?.error?.code}` : "network error";
          failureKinds.set(kind, (failureKinds.get(kind) ?? 0) + 1);
        } else {
          unexpected.push(`${answer.status} ${JSON.stringify(answer.body)}`);
          return;
        }
        if (restartIssuedAt && Date.now() - Math.max(request.sentAt, restartIssuedAt) > GIVE_UP_AFTER_MS) return;
        await delay(RETRY_PAUSE_MS);
      }
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < TOTAL) {
          const request = requests[next];
          next += 1;
          if (request) await send(request);
        }
      }),
    );
    await crash;

    const rows = await sql.query<{ client_id: string; token_id: string; events: string; mints: string }>(
      `SELECT b.client_id, b.token_id,
              (SELECT count(*) FROM batch_events e WHERE e.token_id = b.token_id) AS events,
              (SELECT count(*) FROM chain_jobs j WHERE j.token_id = b.token_id AND j.kind = 'mint') AS mints
       FROM crop_batches b WHERE b.owner_address = $1 AND b.crop_type = 'crash-tomato'`,
      [owner],
    );
    const stored = new Map(rows.rows.map((row) => [row.client_id, Number(row.token_id)]));
    const hit = requests.filter((request) => request.failures + request.conflicts > 0);
    const finished = Date.now();
    const figures = {
      requests: TOTAL,
      acknowledged: requests.filter((request) => request.ackedAt > 0).length,
      "kill -9 -> PostgreSQL ready, ms": restartedAt - killedAt,
      "restart issued -> ready, ms": restartedAt - restartIssuedAt,
      "requests that failed at least once (in flight or sent during the outage)": hit.length,
      "restart issued -> last of those acknowledged, ms":
        Math.max(...hit.map((request) => request.ackedAt)) - restartIssuedAt,
      "longest wait for an ack past the restart (or the request's first try if later), ms": Math.max(
        ...requests.map(waitedPastRestart),
      ),
      "restart issued -> last ack of all, ms":
        Math.max(...requests.map((request) => request.ackedAt)) - restartIssuedAt,
      "max 5xx/network failures per request": Math.max(...requests.map((request) => request.failures)),
      "failures by kind": Object.fromEntries(failureKinds),
      "max 409s per request": Math.max(...requests.map((request) => request.conflicts)),
      rows: rows.rowCount,
      "duplicate rows": rows.rows.length - stored.size,
      "batches without exactly one event and one mint job": rows.rows.filter(
        (row) => row.events !== "1" || row.mints !== "1",
      ).length,
      "acknowledged writes missing": requests.filter(
        (request) => request.ackedAt > 0 && stored.get(request.body.clientId) !== request.tokenId,
      ).length,
      "creates per second (whole run)": Math.round((TOTAL * 1000) / (finished - started)),
      "whole run, ms": finished - started,
    };
    console.log(`idempotent creates across a PostgreSQL kill -9:\n${JSON.stringify(figures, null, 2)}`);

    expect(unexpected).toEqual([]);
    // The database being away is answered 503 with Retry-After, never 500 (or the connection dropped).
    expect([...failureKinds.keys()].filter((kind) => kind !== "503 service_unavailable")).toEqual([]);
    expect(killedAt, "the crash happened").toBeGreaterThan(0);
    expect(hit.length, "some requests were in flight at the crash").toBeGreaterThan(0);
    expect(figures.acknowledged).toBe(TOTAL);
    expect(Math.max(...requests.map(waitedPastRestart))).toBeLessThan(ACK_WITHIN_MS);
    expect(figures.rows).toBe(TOTAL);
    expect(figures["duplicate rows"]).toBe(0);
    expect(figures["batches without exactly one event and one mint job"]).toBe(0);
    expect(figures["acknowledged writes missing"]).toBe(0);
  }, 180_000);
});
