import AxeBuilder from "@axe-core/playwright";
import type { Page, TestInfo } from "@playwright/test";
import { expect, test } from "../support/fixtures";

const PAGES = ["/", "/marketplace", "/batches/1", "/verify/1", "/analytics", "/signin"];

async function violations(page: Page, testInfo: TestInfo) {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"])
    .analyze();
  await testInfo.attach("axe", { body: JSON.stringify(results.violations, null, 2), contentType: "application/json" });
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    targets: violation.nodes.slice(0, 5).map((node) => node.target.join(" ")),
  }));
}

for (const path of PAGES) {
  test(`axe finds no WCAG 2.2 AA or best-practice violations on ${path}`, async ({ page }, testInfo) => {
    await page.goto(path);
    await page.waitForLoadState("networkidle");
    expect(await violations(page, testInfo)).toEqual([]);
  });
}

test("axe finds no violations in a signed-in farmer's batch actions", async ({ page, signedIn }, testInfo) => {
  const farmer = await signedIn("farmer");
  await page.context().addCookies((await farmer.storageState()).cookies);
  await page.goto("/batches/2");
  const actions = page.getByRole("region", { name: "Record an event" });
  await expect(actions.getByText(/Signed in as/)).toBeVisible();
  expect(await violations(page, testInfo)).toEqual([]);
});
