import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { parseEnv } from "@/lib/env.mjs";
import { log } from "@/lib/log";
import { LATENCY_BUCKETS } from "@/lib/metrics/buckets.mjs";
import type { Reading } from "@/lib/observability/read-registry";
import { BURN_ALERTS, burnAlertAnnotations, type Sla, slaTable } from "@/lib/observability/sla";
import { createSlaMonitor, type SlaMonitorOptions } from "@/lib/observability/sla-monitor";

const verification = slaTable(parseEnv({}).slaBounds).find(({ key }) => key === "verification") as Sla;
const BOUNDS = [...LATENCY_BUCKETS, Number.POSITIVE_INFINITY];
const FAST = 0.01;
const SLOW = 1;
const MINUTE = 60_000;

beforeEach(() => {
  vi.restoreAllMocks();
  vi.spyOn(log, "error").mockImplementation(() => undefined);
  vi.spyOn(log, "warn").mockImplementation(() => undefined);
});

/** A monitor of the verification SLA on a fake clock, reading the durations `observe` adds. */
function monitored(options: Partial<SlaMonitorOptions> = {}) {
  const durations: number[] = [];
  let clock = 0;
  let errors = 0;
  const read = async (): Promise<Reading> => ({
    slas: [{ bounds: BOUNDS, counts: BOUNDS.map((bound) => durations.filter((value) => value <= bound).length) }],
    http5xx: errors,
    httpRequests: durations.length,
    chainLagBlocks: 3,
  });
  const monitor = createSlaMonitor({
    slas: [verification],
    intervalSeconds: 15,
    windowScale: 1,
    pageUrl: "http://localhost:3000/operations",
    instance: "test:3000",
    read,
    now: () => clock,
    ...options,
  });
  return {
    monitor,
    observe(count: number, seconds: number, failed = 0) {
      durations.push(...Array.from({ length: count }, () => seconds));
      errors += failed;
    },
    /** Evaluates at `ms` since the monitor was made. */
    evaluateAt(ms: number) {
      clock = ms;
      return monitor.evaluate();
    },
  };
}

describe("the SLA monitor's windows", () => {
  it("counts each window from the reading a window earlier, or from the first one while the process is younger", async () => {
    const { observe, evaluateAt } = monitored();
    await evaluateAt(0);
    observe(100, FAST);
    await evaluateAt(1 * MINUTE);
    observe(10, SLOW, 2);
    const report = await evaluateAt(6 * MINUTE);
    // 5m reads the reading at 1 min; every longer window is older than the process: the first reading.
    expect(report.slas[0]?.windows).toMatchObject({
      "5m": { requests: 10, slow: 10 },
      "30m": { requests: 110, slow: 10 },
      "3d": { requests: 110, slow: 10 },
    });
    expect(report.errors).toEqual({ window: "5m", seconds: 300, http5xx: 2, requests: 10, ratio: 0.2 });
    expect(report.chainLagBlocks).toBe(3);

    observe(40, FAST);
    const later = await evaluateAt(66 * MINUTE);
    // 1h reads the reading at 6 min (the newest at or before 66 - 60), 5m the one at 6 min too.
    expect(later.slas[0]?.windows).toMatchObject({
      "5m": { requests: 40, slow: 0 },
      "1h": { requests: 40, slow: 0 },
      "2h": { requests: 150, slow: 10 },
    });
  });

  it("scales every window by SLA_MONITOR_WINDOW_SCALE", async () => {
    const { observe, evaluateAt } = monitored({ windowScale: 0.01, intervalSeconds: 0.5 });
    await evaluateAt(0);
    observe(5, SLOW);
    await evaluateAt(1_000);
    observe(7, FAST);
    // 5m is 3 s and 1h is 36 s: at 4.5 s the 5m window starts at the reading at 1 s.
    const report = await evaluateAt(4_500);
    expect(report.slas[0]?.windows["1h"].seconds).toBe(36);
    expect(report.slas[0]?.windows).toMatchObject({ "5m": { requests: 7, slow: 0 }, "1h": { requests: 12, slow: 5 } });
  });

  it("gives P50, P99 and P99.9 over the recent window, interpolated within buckets", async () => {
    const { observe, evaluateAt } = monitored();
    await evaluateAt(0);
    observe(1_000, SLOW);
    await evaluateAt(10 * MINUTE);
    observe(90, 0.005);
    observe(10, 0.12);
    const [sla] = (await evaluateAt(15 * MINUTE)).slas;
    // 90 in (0.003, 0.005], 10 in (0.1, 0.15]: the slow thousand are older than 5 minutes.
    expect(sla?.requests).toBe(100);
    expect(sla?.p50).toBeCloseTo(0.003 + 0.002 * (50 / 90), 12);
    expect(sla?.p99).toBeCloseTo(0.1 + 0.05 * (9 / 10), 12);
    expect(sla?.p999).toBeCloseTo(0.1 + 0.05 * (9.9 / 10), 12);
  });
});

describe("the SLA monitor's alerts", () => {
  it("opens an alert when it starts firing and resolves it when it stops, logging both", async () => {
    const error = vi.mocked(log.error);
    const warn = vi.mocked(log.warn);
    const { observe, evaluateAt } = monitored();
    await evaluateAt(0);
    observe(50, FAST);
    observe(50, SLOW);
    const breach = await evaluateAt(1 * MINUTE);
    expect(breach.openAlerts.map(({ alert, severity, sla }) => ({ alert, severity, sla }))).toEqual([
      { alert: "GreenLedgerSLABurnFast", severity: "page", sla: "verification" },
      { alert: "GreenLedgerSLABurnSlow", severity: "ticket", sla: "verification" },
    ]);
    expect(breach.openAlerts[0]?.burnRates["5m"]).toBeCloseTo(50);
    expect(error).toHaveBeenCalledWith(
      expect.objectContaining({ alert: "GreenLedgerSLABurnFast", sla: "verification", boundSeconds: 0.15 }),
      "SLA burn alert firing: Verification",
    );
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ alert: "GreenLedgerSLABurnSlow", burnRates: expect.objectContaining({ "1d": 50 }) }),
      "SLA burn alert firing: Verification",
    );
    // Still firing: nothing new is logged.
    expect((await evaluateAt(2 * MINUTE)).openAlerts).toHaveLength(2);
    expect(error).toHaveBeenCalledTimes(1);

    // The last 5 minutes are healthy and dilute the longer windows to 50 in 1,100 (4.5 %): under 6x (6 %), over 3x.
    observe(1_000, FAST);
    const calm = await evaluateAt(8 * MINUTE);
    expect(calm.openAlerts.map(({ alert }) => alert)).toEqual(["GreenLedgerSLABurnSlow"]);
    expect(calm.resolvedAlerts).toEqual([
      expect.objectContaining({
        alert: "GreenLedgerSLABurnFast",
        startsAt: new Date(MINUTE).toISOString(),
        endsAt: new Date(8 * MINUTE).toISOString(),
      }),
    ]);
    expect(error).toHaveBeenLastCalledWith(
      expect.objectContaining({ alert: "GreenLedgerSLABurnFast" }),
      "SLA burn alert resolved: Verification",
    );
    const fast = calm.slas[0]?.conditions.filter(({ alert }) => alert === "GreenLedgerSLABurnFast");
    expect(fast?.map(({ long, short, holds }) => ({ long, short, holds }))).toEqual([
      { long: "1h", short: "5m", holds: false },
      { long: "6h", short: "30m", holds: false },
    ]);
  });

  it("calls onBreach once when an alert opens, not while it stays open nor when it resolves", async () => {
    const onBreach = vi.fn();
    const { observe, evaluateAt } = monitored({ onBreach });
    await evaluateAt(0);
    observe(100, FAST);
    expect((await evaluateAt(1 * MINUTE)).openAlerts).toEqual([]);
    expect(onBreach).not.toHaveBeenCalled();

    // 5 slow in 105 (4.8 %): over 3x (3 %) for the slow burn alert alone, under the fast one's 6x (6 %).
    observe(5, SLOW);
    const breach = await evaluateAt(2 * MINUTE);
    expect(breach.openAlerts.map(({ alert }) => alert)).toEqual(["GreenLedgerSLABurnSlow"]);
    expect(onBreach).toHaveBeenCalledTimes(1);

    expect((await evaluateAt(3 * MINUTE)).openAlerts).toHaveLength(1);
    expect(onBreach).toHaveBeenCalledTimes(1);

    // 5 slow in 1,105 (0.45 %): under 1x (1 %) on every window.
    observe(1_000, FAST);
    const calm = await evaluateAt(4 * MINUTE);
    expect(calm.openAlerts).toEqual([]);
    expect(calm.resolvedAlerts.map(({ alert }) => alert)).toEqual(["GreenLedgerSLABurnSlow"]);
    expect(onBreach).toHaveBeenCalledTimes(1);
  });

  it("fires nothing on windows without requests", async () => {
    const { evaluateAt } = monitored();
    await evaluateAt(0);
    const report = await evaluateAt(10 * MINUTE);
    expect(report.openAlerts).toEqual([]);
    expect(report.slas[0]).toMatchObject({ requests: 0, p50: null, p99: null, p999: null });
  });
});

describe("the alert webhook", () => {
  let receiver: http.Server;
  let url: string;
  const received: { path: string; body: unknown }[] = [];

  beforeAll(async () => {
    receiver = http.createServer(async (request, response) => {
      const body = JSON.parse(Buffer.concat(await request.toArray()).toString());
      received.push({ path: request.url ?? "", body });
      response.writeHead(request.url === "/broken" ? 500 : 200).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => receiver.close(resolve));
  });

  beforeEach(() => {
    received.length = 0;
  });

  it("posts each opening and resolution in Alertmanager's webhook shape, in order", async () => {
    const { monitor, observe, evaluateAt } = monitored({ webhookUrl: `${url}/hook` });
    await evaluateAt(0);
    observe(100, SLOW);
    await evaluateAt(1 * MINUTE);
    observe(100_000, FAST);
    await evaluateAt(7 * MINUTE);
    await monitor.delivered();

    const fast = BURN_ALERTS.find(({ alert }) => alert === "GreenLedgerSLABurnFast");
    if (!fast) throw new Error("no fast burn alert");
    const labels = {
      alertname: "GreenLedgerSLABurnFast",
      sla: "verification",
      severity: "page",
      instance: "test:3000",
    };
    const annotations = { ...burnAlertAnnotations(verification, fast), burn_rates: expect.stringMatching(/^5m /) };
    const pageUrl = "http://localhost:3000/operations";
    const payload = (status: string, endsAt: string) => ({
      version: "4",
      groupKey: expect.stringContaining('alertname="GreenLedgerSLABurnFast"'),
      truncatedAlerts: 0,
      status,
      receiver: "greenledger",
      groupLabels: labels,
      commonLabels: labels,
      commonAnnotations: annotations,
      externalURL: pageUrl,
      alerts: [
        {
          status,
          labels,
          annotations,
          startsAt: new Date(MINUTE).toISOString(),
          endsAt,
          generatorURL: pageUrl,
          fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
        },
      ],
    });
    const forFast = received.filter(
      ({ body }) => (body as { commonLabels: { alertname: string } }).commonLabels.alertname === labels.alertname,
    );
    expect(forFast).toEqual([
      { path: "/hook", body: payload("firing", "0001-01-01T00:00:00Z") },
      { path: "/hook", body: payload("resolved", new Date(7 * MINUTE).toISOString()) },
    ]);
  });

  it("logs a webhook that fails or cannot be reached, and goes on", async () => {
    const warn = vi.mocked(log.warn);
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const unreachable = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/hook`;
    await new Promise((resolve) => closed.close(resolve));

    for (const webhookUrl of [`${url}/broken`, unreachable]) {
      warn.mockClear();
      const { monitor, observe, evaluateAt } = monitored({ webhookUrl });
      await evaluateAt(0);
      observe(100, SLOW);
      const report = await evaluateAt(MINUTE);
      await monitor.delivered();
      expect(report.openAlerts).toHaveLength(2);
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({ status: "firing", err: expect.any(Error) }),
        "alert webhook failed",
      );
    }
  });
});
