import type { Histogram } from "prom-client";
import { describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/env.mjs";
import { metrics } from "@/lib/metrics/metrics";
import { routeLabel } from "@/lib/metrics/route-label";
import {
  firingBurnAlerts,
  matchesLabels,
  type Sla,
  slaTable,
  WINDOWS,
  type Window,
  type WindowCounts,
} from "@/lib/observability/sla";

const slas = slaTable(parseEnv({}).slaBounds);
const sla = (key: Sla["key"]) => slas.find((candidate) => candidate.key === key) as Sla;

/** The bucket boundaries (seconds) the app's registry gives a histogram. */
async function bucketsOf(name: string): Promise<number[]> {
  const histogram = metrics.registry.getSingleMetric(name) as Histogram | undefined;
  if (!histogram) throw new Error(`the registry has no ${name}`);
  histogram.zero({});
  const { values } = await histogram.get();
  return values
    .filter((value) => value.metricName === `${name}_bucket` && value.labels.le !== "+Inf")
    .map((value) => Number(value.labels.le));
}

describe("the SLA table", () => {
  it("selects each request by the route label the gateway gives it, for one SLA at most", () => {
    const uuid = "5f0e1c9a-1b2c-4d3e-8f90-123456789abc";
    const cases: [method: string, path: string, sla: Sla["key"] | null][] = [
      ["GET", "/api/verify/42", "verification"],
      ["GET", "/verify/42", "verification"],
      ["GET", "/01/09506000134352/10/LOT7", "verification"],
      ["POST", "/api/crop-batches/search", "search"],
      ["POST", "/api/uploads", "upload"],
      ["PATCH", `/api/uploads/${uuid}`, "upload"],
      ["HEAD", `/api/uploads/${uuid}`, null],
      ["POST", "/api/crop-batches", "api"],
      ["GET", "/api/crop-batches/77/events", "api"],
      ["GET", `/api/files/${"ab".repeat(32)}.jpg`, null],
      ["GET", "/api/metrics", null],
      ["GET", "/api/health", null],
      ["GET", `/batches/${uuid}`, null],
    ];
    const http = slas.filter(({ metric }) => metric === "gl_http_request_duration_seconds");
    for (const [method, path, expected] of cases) {
      const labels = { route: routeLabel(path, 200), method, status: "200" };
      const matched = http.filter((candidate) => matchesLabels(candidate, labels)).map(({ key }) => key);
      expect({ method, path, matched }).toEqual({ method, path, matched: expected ? [expected] : [] });
    }
  });

  it("holds each default bound, and accepts exactly the buckets of the SLA's histogram in SLA_BOUNDS_MS", async () => {
    const bucketsBySla = new Map(await Promise.all(slas.map(async (s) => [s.key, await bucketsOf(s.metric)] as const)));
    const everyBucket = [...new Set([...bucketsBySla.values()].flat())];
    for (const { key, boundSeconds } of slas) {
      const own = bucketsBySla.get(key) ?? [];
      expect(own).toContain(boundSeconds);
      for (const seconds of everyBucket) {
        const setting = { SLA_BOUNDS_MS: `${key}=${Number((seconds * 1000).toPrecision(6))}` };
        if (own.includes(seconds)) expect(parseEnv(setting).slaBounds[key]).toBe(seconds);
        else expect(() => parseEnv(setting)).toThrow(`SLA_BOUNDS_MS: ${key}=`);
      }
    }
  });
});

describe("firingBurnAlerts", () => {
  const verification = sla("verification");
  /** `slow` of every 1,000 requests over the bound in each window, but for the windows overridden. */
  const counts = (slow: number, overrides: Partial<Record<Window, WindowCounts>> = {}) => {
    const windows = WINDOWS.map((window) => [window, overrides[window] ?? { good: 1_000 - slow, total: 1_000 }]);
    return Object.fromEntries(windows) as Record<Window, WindowCounts>;
  };
  const fired = (windows: ReturnType<typeof counts>) =>
    firingBurnAlerts(verification, windows).map(({ alert }) => alert);

  it("pages over 14.4x on 1h and 5m, opens a ticket over 3x on 1d and 2h, stays silent within the budget", () => {
    expect(fired(counts(200))).toEqual(["GreenLedgerSLABurnFast", "GreenLedgerSLABurnSlow"]);
    expect(fired(counts(50))).toEqual(["GreenLedgerSLABurnSlow"]);
    expect(fired(counts(5))).toEqual([]);
  });

  it("needs both windows: a burn that stopped 5 minutes ago, or a window without requests, fires nothing", () => {
    const stopped = counts(200, { "5m": { good: 1_000, total: 1_000 }, "30m": { good: 1_000, total: 1_000 } });
    expect(fired(stopped)).toEqual(["GreenLedgerSLABurnSlow"]);
    expect(fired(counts(200, { "5m": { good: 0, total: 0 }, "30m": { good: 0, total: 0 } }))).toEqual([
      "GreenLedgerSLABurnSlow",
    ]);
    expect(fired(counts(0))).toEqual([]);
  });
});
