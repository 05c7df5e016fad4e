import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as reset } from "@/app/api/operations/budgets/[key]/reset/route";
import { GET as operations } from "@/app/api/operations/route";
import { OperationsReportView } from "@/components/operations/operations-report";
import { forgetRateLimit } from "@/lib/api/rate-limit";
import { db } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";
import { budgetMonitorState, startBudgetMonitor } from "@/lib/observability/budget-monitor";
import { type Sla, slaTable } from "@/lib/observability/sla";
import { startSlaMonitor } from "@/lib/observability/sla-monitor";
import { call, type TestUser, userWithRole } from "@/tests/support/api";
import { type ProbeGateway, startProbeGateway } from "@/tests/support/probe-gateway";
import { until } from "@/tests/support/until";

// Fast answers take a steady 20 ms, so a busy machine's hiccups of a few ms are small beside them (a period's P99 of
// 60 requests is their slowest); slow ones are over the API SLA's 100 ms bound.
const LATENCY = { fastMs: 20, slowMs: 150 };
const API = slaTable(env.slaBounds).find(({ key }) => key === "api") as Sla;

const budgetOfApi = async () => (await db.performanceBudget.findUnique({ where: { key: "api" } }))?.budgetSeconds;
const eventsOfApi = () => db.performanceBudgetEvent.findMany({ where: { key: "api" }, orderBy: { id: "desc" } });
const removeApiBudget = async () => {
  await db.performanceBudgetEvent.deleteMany({ where: { key: "api" } });
  await db.performanceBudget.deleteMany({ where: { key: "api" } });
};

describe("performance budgets on the app's own histograms", () => {
  let probe: ProbeGateway;
  let monitors: { stop(): Promise<void> }[];
  let admin: TestUser;
  let farmer: TestUser;
  let tightened: number;

  const apiTrend = () => budgetMonitorState()?.trends.get("api");

  /**
   * Sends a burst of requests, and another while none of the periods closed since had enough of them (a burst may
   * straddle two): a closed period with enough requests is a new trend. Paced so, the test stays under the rate limit.
   */
  async function period(slow: boolean): Promise<void> {
    const before = apiTrend();
    await until(async () => {
      await probe.send(60, slow);
      await until(async () => apiTrend() !== before, 1_000).catch(() => undefined);
      return apiTrend() !== before;
    }, 10_000);
  }

  const report = async () => {
    const answer = await call(operations, {}, { path: "/api/operations", cookie: admin.cookie });
    expect(answer.status).toBe(200);
    return answer.body;
  };
  const apiBudget = async () => (await report()).budgets.find(({ key }: { key: string }) => key === "api");

  beforeAll(async () => {
    await removeApiBudget();
    probe = await startProbeGateway("/api/budget-probe", LATENCY);
    admin = await userWithRole("admin");
    farmer = await userWithRole("farmer");
    // Periods of 0.3 s, and 3 of them with at least 40 requests tighten the budget.
    monitors = [
      startSlaMonitor({ windowScale: 0.01, intervalSeconds: 0.2 }),
      startBudgetMonitor({
        slas: [API],
        periodSeconds: 0.3,
        rules: { minRequests: 40, periods: 3, headroom: 1.5 },
        webhookUrl: probe.webhookUrl,
      }),
    ];
  });

  afterAll(async () => {
    await Promise.all((monitors ?? []).map((monitor) => monitor.stop()));
    await probe?.close();
    await forgetRateLimit("ip", "127.0.0.1");
    await removeApiBudget();
  });

  it("tightens the budget after healthy periods, to a bucket over their P99s with headroom", async () => {
    await until(async () => {
      await period(false);
      return ((await budgetOfApi()) ?? API.boundSeconds) < API.boundSeconds;
    }, 15_000);
    tightened = (await budgetOfApi()) ?? Number.NaN;
    // P99s of at least 20 ms and under half the bound, x 1.5: between 30 and 75 ms, rounded up to a bucket.
    expect([0.05, 0.075]).toContain(tightened);
    const [event] = await eventsOfApi();
    expect(event).toMatchObject({ kind: "tightened", fromSeconds: API.boundSeconds, toSeconds: tightened });
    expect(event?.p99s).toHaveLength(3);

    const budget = await apiBudget();
    expect(budget).toMatchObject({ boundSeconds: API.boundSeconds, budgetSeconds: tightened, regressed: false });
    expect(budget.recentP99s.length).toBeGreaterThanOrEqual(3);
    expect(budget.history[0]).toMatchObject({ kind: "tightened", toSeconds: tightened });
  });

  it("does not loosen it after a slow period, and reports the period as a regression", async () => {
    await until(async () => {
      await period(true);
      return (await eventsOfApi()).some(({ kind }) => kind === "regression");
    }, 15_000);
    expect(await budgetOfApi()).toBe(tightened);
    const [regression] = await eventsOfApi();
    expect(regression).toMatchObject({ kind: "regression", fromSeconds: tightened, toSeconds: tightened });
    expect(regression?.note).toMatch(/^P99 \d+(\.\d+)? ms against a baseline of/);
    await until(async () =>
      probe.posted.some(
        ({ status, alerts }) =>
          status === "firing" &&
          alerts.some(
            ({ labels }) =>
              labels.alertname === "GreenLedgerLatencyRegression" &&
              labels.sla === "api" &&
              labels.severity === "ticket",
          ),
      ),
    );

    const answer = await report();
    const budget = answer.budgets.find(({ key }: { key: string }) => key === "api");
    expect(budget).toMatchObject({ budgetSeconds: tightened, regressed: true });
    expect(budget.history.map(({ kind }: { kind: string }) => kind)).toEqual(["regression", "tightened"]);
    const page = renderToStaticMarkup(createElement(OperationsReportView, { report: answer }));
    expect(page).toContain("Performance budgets");
    expect(page).toContain("Regression");
  });

  it("is put back to the SLA bound by an admin's reset, recorded with who did it; not by a farmer", async () => {
    const path = "/api/operations/budgets/api/reset";
    expect(await call(reset, { key: "api" }, { method: "POST", path, cookie: farmer.cookie })).toMatchObject({
      status: 403,
      body: { error: { code: "forbidden" } },
    });
    expect(await call(reset, { key: "nope" }, { method: "POST", path, cookie: admin.cookie })).toMatchObject({
      status: 404,
      body: { error: { code: "not_found" } },
    });
    const answer = await call(reset, { key: "api" }, { method: "POST", path, cookie: admin.cookie });
    expect(answer).toMatchObject({
      status: 200,
      body: { kind: "reset", fromSeconds: tightened, toSeconds: API.boundSeconds, actor: admin.address },
    });
    expect(await budgetOfApi()).toBe(API.boundSeconds);
    const budget = await apiBudget();
    expect(budget.budgetSeconds).toBe(API.boundSeconds);
    expect(budget.history[0]).toMatchObject({ kind: "reset", actor: admin.address });
  });
});
