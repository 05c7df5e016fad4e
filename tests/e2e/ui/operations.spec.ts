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

test("the operations page is for admins: a farmer is told so and sees no figures", async ({ page, signedIn }) => {
  const farmer = await signedIn("farmer");
  await page.context().addCookies((await farmer.storageState()).cookies);
  await page.goto("/operations");
  await expect(page.getByText("This page is for admins.")).toBeVisible();
  await expect(page.getByRole("heading", { name: "SLAs" })).toHaveCount(0);
  expect((await farmer.get("/api/operations")).status()).toBe(403);
});
