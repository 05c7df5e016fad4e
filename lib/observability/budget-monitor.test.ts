import { beforeEach, describe, expect, it, vi } from "vitest";
import { parseEnv } from "@/lib/env.mjs";
import { log } from "@/lib/log";
import { LATENCY_BUCKETS } from "@/lib/metrics/buckets.mjs";
import { createBudgetMonitor } from "@/lib/observability/budget-monitor";
import { postAlert } from "@/lib/observability/post-alert";
import type { Reading } from "@/lib/observability/read-registry";
import { type Sla, slaTable } from "@/lib/observability/sla";

// The budgets' table, in memory: what the database verbs would read and write.
const stored = new Map<string, number>();
const events: { kind: string; fromSeconds?: number; toSeconds: number }[] = [];

vi.mock("@/lib/observability/load-performance-budget", () => ({
  loadPerformanceBudget: async (key: string, boundSeconds: number) => {
    if (!stored.has(key)) stored.set(key, boundSeconds);
    return stored.get(key);
  },
}));
vi.mock("@/lib/observability/tighten-performance-budget", () => ({
  tightenPerformanceBudget: async ({ key, toSeconds }: { key: string; toSeconds: number }) => {
    const fromSeconds = stored.get(key) ?? Number.POSITIVE_INFINITY;
    if (fromSeconds <= toSeconds) return false;
    stored.set(key, toSeconds);
    events.push({ kind: "tightened", fromSeconds, toSeconds });
    return true;
  },
}));
vi.mock("@/lib/observability/record-latency-regression", () => ({
  recordLatencyRegression: async ({ budgetSeconds }: { budgetSeconds: number }) => {
    events.push({ kind: "regression", toSeconds: budgetSeconds });
  },
}));
vi.mock("@/lib/observability/post-alert", () => ({ postAlert: vi.fn(async () => undefined) }));

const api = slaTable(parseEnv({}).slaBounds).find(({ key }) => key === "api") as Sla;
const BOUNDS = [...LATENCY_BUCKETS, Number.POSITIVE_INFINITY];

beforeEach(() => {
  stored.clear();
  events.length = 0;
  vi.mocked(postAlert).mockClear();
  vi.spyOn(log, "warn").mockImplementation(() => undefined);
  vi.spyOn(log, "info").mockImplementation(() => undefined);
});

/** A budget monitor of the API SLA whose periods hold `observe`d requests, all of one duration per call. */
function monitored() {
  const counts = BOUNDS.map(() => 0);
  const read = async (): Promise<Reading> => ({
    slas: [{ bounds: BOUNDS, counts: [...counts] }],
    http5xx: 0,
    httpRequests: counts.at(-1) ?? 0,
    chainLagBlocks: null,
  });
  const monitor = createBudgetMonitor({
    slas: [api],
    rules: { minRequests: 100, periods: 3, headroom: 1.5 },
    periodSeconds: 1,
    webhookUrl: "http://127.0.0.1:9/alerts",
    pageUrl: "http://localhost:3000/operations",
    instance: "test:3000",
    read,
  });
  return {
    monitor,
    /** Closes one period of 200 requests taking `seconds` each. */
    async period(seconds: number) {
      BOUNDS.forEach((bound, index) => {
        if (seconds <= bound) counts[index] = (counts[index] ?? 0) + 200;
      });
      await monitor.closePeriod();
    },
  };
}

const alertsPosted = () =>
  vi.mocked(postAlert).mock.calls.map(([, change]) => [change.labels.alertname, change.status]);

describe("the budget monitor", () => {
  it("tightens the stored budget, reports a slow period as a regression without loosening it, and posts the alert", async () => {
    const { monitor, period } = monitored();
    await monitor.closePeriod();
    for (let index = 0; index < 3; index++) await period(0.004);
    expect(stored.get("api")).toBe(0.01);
    await period(0.3);
    expect(stored.get("api")).toBe(0.01);
    expect(events.map(({ kind }) => kind)).toEqual(["tightened", "regression"]);
    expect(monitor.trends().get("api")?.regressed).toBe(true);
    await monitor.delivered();
    expect(alertsPosted()).toEqual([["GreenLedgerLatencyRegression", "firing"]]);
  });

  it("starts the trend over when an admin has reset the budget, and resolves the open regression", async () => {
    const { monitor, period } = monitored();
    await monitor.closePeriod();
    for (let index = 0; index < 3; index++) await period(0.004);
    await period(0.3);
    stored.set("api", api.boundSeconds);
    await period(0.3);
    expect(monitor.trends().get("api")).toMatchObject({ p99s: [expect.any(Number)], regressed: false });
    await monitor.delivered();
    expect(alertsPosted()).toEqual([
      ["GreenLedgerLatencyRegression", "firing"],
      ["GreenLedgerLatencyRegression", "resolved"],
    ]);
    expect(stored.get("api")).toBe(api.boundSeconds);
  });
});
