import { existsSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Alertmanager, startAlertmanager } from "@/deploy/local/alertmanager";
import { type LocalChain, startLocalChain } from "@/deploy/local/chain";
import { type PgCluster, pgCluster } from "@/deploy/local/pg-cluster";
import { type Prometheus, startPrometheus } from "@/deploy/local/prometheus";
import { type ServerProcess, startServerProcess } from "@/deploy/local/server-process";
import { prometheusRules } from "@/deploy/prometheus/rules";
import { createSessionCookie } from "@/lib/auth/session";
import { env } from "@/lib/env.mjs";
import type { OperationsReport } from "@/lib/observability/get-operations-report";
import { matchesLabels, slaTable } from "@/lib/observability/sla";
import type { AlertRecord } from "@/lib/observability/sla-monitor";
import { farmerWithFarm } from "@/tests/support/farmer";
import type { WebhookPayload } from "@/tests/support/probe-gateway";
import { until } from "@/tests/support/until";

// 5m is 3 s, 30m 18 s, 1h 36 s, in Prometheus's rules and in the app's own monitor alike.
const WINDOW_SCALE = 0.01;
const ALERT = "GreenLedgerSLABurnFast";
const SLAS = slaTable(env.slaBounds);
// A farmer's own batches (GET /api/crop-batches): a read of crop_batches that falls under the API SLA.
const ROUTE = "/api/crop-batches";
const BOUND_MS = env.slaBounds.api * 1000;
// Ten requests a second throughout: light enough that a few seconds of slow ones outweigh the healthy ones before.
const SEND_EVERY_MS = 100;
// The table is locked again as soon as each hold ends, so nearly every request waits up to a hold.
const LOCK_HOLD_MS = 5 * BOUND_MS;
const HEALTHY_REQUESTS = 50;

type Received = { at: number; payload: WebhookPayload };
type Receiver = { url: string; received: Received[]; close(): Promise<void> };

/** A webhook receiver on a free loopback port that keeps every payload with the time it arrived. */
async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const server = http.createServer(async (request, response) => {
    received.push({ at: Date.now(), payload: JSON.parse(Buffer.concat(await request.toArray()).toString()) });
    response.writeHead(200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** When the receiver first got the API SLA's fast-burn alert in `status`, at or after `since`. */
function receivedAt({ received }: Receiver, status: "firing" | "resolved", since: number): number | undefined {
  return received.find(
    ({ at, payload }) =>
      at >= since &&
      payload.alerts.some(
        (alert) => alert.status === status && alert.labels.alertname === ALERT && alert.labels.sla === "api",
      ),
  )?.at;
}

const isFastApi = (record: AlertRecord, since: number) =>
  record.alert === ALERT && record.sla === "api" && Date.parse(record.startsAt) >= since;

// A real Prometheus and Alertmanager with the shipped rules (windows scaled) and the app's own monitor, on one server.
describe("burn alerts on a real slowdown: PostgreSQL table locks", () => {
  let cluster: PgCluster;
  let chain: LocalChain;
  let server: ServerProcess;
  let alertmanager: Alertmanager;
  let prometheus: Prometheus;
  let viaAlertmanager: Receiver;
  let fromApp: Receiver;
  let sql: pg.Pool;
  let farmerCookie: string;
  let adminCookie: string;
  const logDir = mkdtempSync(path.join(tmpdir(), "gl-alerting-"));

  beforeAll(async () => {
    if (!existsSync(".next/BUILD_ID")) throw new Error("This test runs the production server: `npm run build` first");
    const api = SLAS.find(({ key }) => key === "api");
    expect(api && matchesLabels(api, { route: ROUTE, method: "GET" })).toBe(true);
    viaAlertmanager = await startReceiver();
    fromApp = await startReceiver();
    cluster = pgCluster();
    // The chain is the test's own, as in the other process tests.
    const [{ url }, startedChain] = await Promise.all([cluster.start(), startLocalChain()]);
    chain = startedChain;
    alertmanager = await startAlertmanager(viaAlertmanager.url);
    server = await startServerProcess("server", logDir, {
      ROLE: "all",
      DATABASE_URL: url,
      ...chain.env,
      RELAYER_PRIVATE_KEY: chain.relayerKey,
      LOG_LEVEL: "warn",
      SLA_MONITOR_WINDOW_SCALE: String(WINDOW_SCALE),
      SLA_MONITOR_INTERVAL_SECONDS: "0.5",
      ALERT_WEBHOOK_URL: fromApp.url,
    });
    sql = new pg.Pool({ connectionString: url, max: 3 });
    sql.on("error", () => undefined);
    ({ cookie: farmerCookie } = await farmerWithFarm(sql));
    const admin = privateKeyToAccount(generatePrivateKey()).address.toLowerCase();
    await sql.query("INSERT INTO users (address, role) VALUES ($1, 'admin')", [admin]);
    adminCookie = (await createSessionCookie(admin)).split(";")[0] ?? "";
    // A route's first answer loads its code: slower than the bound, and no sign of a slow database. Prometheus starts
    // after it, so its counters hold it from the first scrape on.
    for (const [pathname, cookie] of [
      [ROUTE, farmerCookie],
      ["/api/operations", adminCookie],
    ] as const) {
      const response = await fetch(`${server.baseUrl}${pathname}`, { headers: { cookie } });
      expect(response.status).toBe(200);
      await response.body?.cancel();
    }
    prometheus = await startPrometheus({
      metricsUrl: `${server.baseUrl}/api/metrics`,
      rules: prometheusRules(SLAS, { windowScale: WINDOW_SCALE }),
      alertmanagerUrl: alertmanager.url,
    });
  }, 120_000);

  afterAll(async () => {
    await sql?.end();
    await prometheus?.stop();
    await alertmanager?.stop();
    await server?.child.stop();
    await Promise.all([viaAlertmanager?.close(), fromApp?.close()]);
    await chain?.stop();
    await cluster?.destroy();
    if (!process.env.KEEP_LOGS) rmSync(logDir, { recursive: true, force: true });
  });

  /** A PromQL instant query's first value; undefined while it has none. */
  const promValue = async (query: string): Promise<number | undefined> => {
    const response = await fetch(`${prometheus.url}/api/v1/query?${new URLSearchParams({ query })}`);
    const body = (await response.json()) as { data: { result: { value: [number, string] }[] } };
    const value = body.data.result[0]?.value[1];
    return value === undefined ? undefined : Number(value);
  };

  const operations = async (): Promise<OperationsReport> => {
    const response = await fetch(`${server.baseUrl}/api/operations`, { headers: { cookie: adminCookie } });
    if (!response.ok) throw new Error(`/api/operations answered ${response.status}`);
    return (await response.json()) as OperationsReport;
  };

  /** What Prometheus and the app see of the API SLA, for a failure's message. */
  const state = async () => {
    const report = await operations().catch(() => undefined);
    const api = report?.slas.find(({ key }) => key === "api");
    const windows = ["5m", "30m", "1h"] as const;
    return JSON.stringify({
      prometheus: Object.fromEntries(
        await Promise.all(
          windows.map(async (window) => [window, await promValue(`sla:slow_ratio:rate${window}{sla="api"}`)]),
        ),
      ),
      app: Object.fromEntries(windows.map((window) => [window, api?.windows[window]])),
      openAlerts: report?.openAlerts,
    });
  };

  const waitFor = (what: string, check: () => Promise<boolean>, ms: number) =>
    until(check, ms).catch(async (error: Error) => {
      throw new Error(`${what}: ${error.message}; ${await state()}`);
    });

  /** GET ROUTE as the farmer every SEND_EVERY_MS, each on its own, and tally the answers over the SLA's bound. */
  function traffic() {
    const none = () => ({ sent: 0, slow: 0, failed: 0 });
    let tally = none();
    const pending = new Set<Promise<void>>();
    const send = async (counts: typeof tally) => {
      const started = performance.now();
      const response = await fetch(`${server.baseUrl}${ROUTE}`, {
        headers: { cookie: farmerCookie },
        signal: AbortSignal.timeout(15_000),
      }).catch(() => undefined);
      await response?.body?.cancel();
      if (response?.status !== 200) counts.failed += 1;
      else if (performance.now() - started > BOUND_MS) counts.slow += 1;
    };
    const timer = setInterval(() => {
      tally.sent += 1;
      const request = send(tally).finally(() => pending.delete(request));
      pending.add(request);
    }, SEND_EVERY_MS);
    return {
      /** The requests sent since the last call, once all of them are answered. */
      async take() {
        const taken = tally;
        tally = none();
        await Promise.all(pending);
        return taken;
      },
      stop() {
        clearInterval(timer);
        return Promise.all(pending);
      },
    };
  }

  /**
   * Locks crop_batches from a session of the test's own, again as soon as each LOCK_HOLD_MS hold ends, until
   * release(), which resolves once the last hold has ended.
   */
  async function lockRepeatedly(): Promise<{ locked: number; release(): Promise<number> }> {
    const session = await sql.connect();
    const lock = () => session.query("BEGIN; LOCK TABLE crop_batches IN ACCESS EXCLUSIVE MODE");
    await lock().catch((error: unknown) => {
      session.release(true);
      throw error;
    });
    const locked = Date.now();
    let holding = true;
    const loop = (async () => {
      for (;;) {
        await session.query(`SELECT pg_sleep(${LOCK_HOLD_MS / 1000}); COMMIT`);
        if (!holding) return;
        await lock();
      }
    })();
    // Awaited by release(); a failure meanwhile must not go unhandled.
    loop.catch(() => undefined);
    return {
      locked,
      async release() {
        holding = false;
        await loop.finally(() => session.release(true));
        return Date.now();
      },
    };
  }

  // /api/operations is an API call too: it is read once each webhook has spoken, so its quick answers do not dilute
  // the slow share the alerts measure.
  it("the fast-burn alert reaches Alertmanager's webhook, the app's webhook and /api/operations while the table is locked, and both resolve after", async () => {
    const requests = traffic();
    try {
      await waitFor(
        "Prometheus scrapes the server, knows the Alertmanager and sees healthy answers",
        async () => {
          const [up, alertmanagers, ratio, firing] = await Promise.all([
            promValue('up{job="greenledger"}'),
            fetch(`${prometheus.url}/api/v1/alertmanagers`).then(
              async (response) => (await response.json()).data.activeAlertmanagers.length,
            ),
            promValue('sla:slow_ratio:rate1h{sla="api"}'),
            promValue(`ALERTS{alertname="${ALERT}",sla="api"}`),
          ]);
          return up === 1 && alertmanagers > 0 && ratio !== undefined && firing === undefined;
        },
        30_000,
      );
      await waitFor(
        "the app sees healthy answers",
        async () => {
          const report = await operations();
          return (
            (report.slas.find(({ key }) => key === "api")?.windows["1h"].requests ?? 0) >= HEALTHY_REQUESTS &&
            !report.openAlerts.some((record) => record.alert === ALERT && record.sla === "api")
          );
        },
        10_000,
      );
      const healthy = await requests.take();

      const lock = await lockRepeatedly();
      const { locked } = lock;
      let released: number;
      let open: AlertRecord[];
      try {
        await waitFor(
          "the alert reaches both webhooks",
          async () =>
            receivedAt(viaAlertmanager, "firing", locked) !== undefined &&
            receivedAt(fromApp, "firing", locked) !== undefined,
          20_000,
        );
        open = (await operations()).openAlerts;
      } finally {
        released = await lock.release();
      }
      const slow = await requests.take();
      const opened = open.find((record) => isFastApi(record, locked));
      expect(opened).toMatchObject({ severity: "page", endsAt: null });

      await waitFor(
        "the alert resolves at both webhooks",
        async () =>
          receivedAt(viaAlertmanager, "resolved", released) !== undefined &&
          receivedAt(fromApp, "resolved", released) !== undefined,
        35_000,
      );
      const recovery = await requests.take();
      const report = await operations();
      const closed = report.resolvedAlerts.find(
        (record) => isFastApi(record, locked) && record.startsAt === opened?.startsAt,
      );
      expect(closed?.endsAt).toEqual(expect.any(String));
      expect(report.openAlerts.some((record) => isFastApi(record, locked))).toBe(false);

      const msFrom = (from: number, at: number | undefined) => (at === undefined ? null : at - from);
      const figures = {
        route: `GET ${ROUTE}, API SLA (${BOUND_MS} ms)`,
        "lock held at a time, ms": LOCK_HOLD_MS,
        "window scale": WINDOW_SCALE,
        "requests: sent, slower than the bound, failed": { healthy, slow, recovery },
        "lock taken -> firing at Alertmanager's receiver, ms": msFrom(
          locked,
          receivedAt(viaAlertmanager, "firing", locked),
        ),
        "lock taken -> opened by the app's monitor, ms": msFrom(locked, Date.parse(opened?.startsAt ?? "")),
        "lock taken -> at the app's webhook, ms": msFrom(locked, receivedAt(fromApp, "firing", locked)),
        "lock released -> resolved at Alertmanager's receiver, ms": msFrom(
          released,
          receivedAt(viaAlertmanager, "resolved", released),
        ),
        "lock released -> resolved by the app's monitor, ms": msFrom(released, Date.parse(closed?.endsAt ?? "")),
        "lock released -> resolved at the app's webhook, ms": msFrom(
          released,
          receivedAt(fromApp, "resolved", released),
        ),
      };
      console.log(`burn alerts on a locked table:\n${JSON.stringify(figures, null, 2)}`);
      expect(slow.slow).toBeGreaterThan(slow.sent / 2);
      expect(healthy.failed + slow.failed + recovery.failed).toBe(0);
    } finally {
      await requests.stop();
    }
  }, 90_000);
});
