import { expect, test } from "../support/fixtures";
import { screenshot } from "./support";

test("a verify page opens offline after one visit; an unvisited one shows the offline page", async ({
  context,
  page,
}, testInfo) => {
  await page.goto("/verify/3");
  const heading = await page.getByRole("heading", { level: 1 }).textContent();
  await page.evaluate(() => navigator.serviceWorker.ready);
  await expect.poll(() => page.evaluate(async () => (await caches.match("/verify/3")) !== undefined)).toBe(true);

  await context.setOffline(true);
  await page.reload();
  await expect(page).toHaveTitle(/Verify batch #3/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(heading ?? "");
  await screenshot(page, testInfo, "verify-offline");

  await page.goto("/verify/4");
  await expect(page.getByRole("heading", { name: "You are offline" })).toBeVisible();
  await context.setOffline(false);
});
