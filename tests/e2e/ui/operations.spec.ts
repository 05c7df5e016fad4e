import { randomBytes } from "node:crypto";
import { expect, test } from "../support/fixtures";

test("an admin's operations page shows each SLA against its bound, with the verifications just made counted", async ({
  page,
  signedIn,
}) => {
  const admin = await signedIn("admin");
  for (let index = 0; index < 3; index++) expect((await page.request.get("/api/verify/1")).status()).toBe(200);
  await page.context().addCookies((await admin.storageState()).cookies);
  await page.goto("/operations");
  await expect(page.getByRole("heading", { level: 1, name: "Operations" })).toBeVisible();
  for (const name of ["Verification", "Search", "Live tracking", "Chain sync", "Upload", "API"]) {
    await expect(page.getByRole("heading", { level: 3, name, exact: true })).toBeVisible();
  }
  // Each operation's budget starts at its SLA bound, with no history yet on a fresh server.
  const budgets = page.getByRole("region", { name: "Performance budgets" });
  await expect(budgets.getByRole("row", { name: /^Verification/ })).toContainText("150 ms");
  const verification = page.getByRole("region", { name: "Verification", exact: true });
  await expect(verification).toContainText("within 150 ms");
  // The monitor reads the histograms every SLA_MONITOR_INTERVAL_SECONDS (1 s here): a reload shows them once it has.
  await expect(async () => {
    await page.reload();
    const requests = verification.locator("dt", { hasText: /^Requests/ }).locator("xpath=following-sibling::dd");
    expect(Number((await requests.textContent())?.replace(/\D/g, ""))).toBeGreaterThanOrEqual(3);
  }).toPass({ timeout: 10_000 });

  const response = await admin.get("/api/operations");
  expect(response.status()).toBe(200);
  expect((await response.json()).slas.map((sla: { key: string }) => sla.key)).toEqual([
    "verification",
    "search",
    "tracking",
    "chain_sync",
    "upload",
    "api",
  ]);
});

test("an admin sees the slowest recent traces, each with its analysis, and a traced request's analysis", async ({
  page,
  signedIn,
}) => {
  const admin = await signedIn("admin");
  // A caller that samples its trace (W3C traceparent, sampled flag) is traced whatever the server's own ratio.
  const traceId = randomBytes(16).toString("hex");
  const traceparent = `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
  expect((await page.request.get("/api/farms", { headers: { traceparent } })).status()).toBe(401);
  const analysis = await admin.get(`/api/operations/traces/${traceId}`);
  expect(analysis.status()).toBe(200);
  expect((await analysis.json()).root.name).toBe("GET /api/farms");

  await page.context().addCookies((await admin.storageState()).cookies);
  await page.goto("/operations");
  const traces = page.getByRole("region", { name: "Traces" });
  await expect(traces).toContainText("of new traces sampled (parentbased_traceidratio)");
  const slowest = traces.getByRole("table", { name: /slowest sampled traces/ });
  const first = slowest.getByRole("row").nth(1);
  const link = first.getByRole("rowheader").getByRole("link");
  const href = (await link.getAttribute("href")) ?? "";
  expect(href).toMatch(/^\/api\/operations\/traces\/[0-9a-f]{32}$/);
  // The row's request and dominant span are the analysis's own.
  const analyzed = await (await admin.get(href)).json();
  await expect(link).toHaveText(analyzed.root.name);
  await expect(first.getByRole("cell").nth(2)).toHaveText(analyzed.dominant.span.name);
});

test("the operations page is for admins: a farmer is told so and sees no figures", async ({ page, signedIn }) => {
  const farmer = await signedIn("farmer");
  await page.context().addCookies((await farmer.storageState()).cookies);
  await page.goto("/operations");
  await expect(page.getByText("This page is for admins.")).toBeVisible();
  await expect(page.getByRole("heading", { name: "SLAs" })).toHaveCount(0);
  expect((await farmer.get("/api/operations")).status()).toBe(403);
});
