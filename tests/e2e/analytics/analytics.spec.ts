import { expect, test } from "../support/fixtures";

test("the analytics page charts the demo data and filters by crop", async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  const response = await page.goto("/analytics?window=30d");
  expect(response?.status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Crop analytics");

  const volume = page.getByRole("figure", { name: /^Volume/ });
  const quality = page.getByRole("figure", { name: /^Average quality/ });
  const quantity = page.getByRole("figure", { name: /^Median quantity/ });
  await expect(volume).toHaveAccessibleDescription(/^\d[\d,]* batches in the last 30 d/);
  await expect(quality).toHaveAccessibleDescription(/averaged/);
  await expect(quantity).toHaveAccessibleDescription(/kg/);
  await expect(volume.locator(".recharts-bar-rectangle").first()).toBeVisible();
  await expect(quality.locator(".recharts-line-curve").first()).toBeVisible();
  await expect(quantity.locator(".recharts-bar-rectangle").first()).toBeVisible();

  const select = page.getByRole("combobox", { name: "Crop" });
  const crops = (
    await select.locator("option").evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value))
  ).filter(Boolean);
  expect(crops.length).toBeGreaterThan(1);
  const summary = page.getByRole("table", { name: /^Per crop, last 30 d/ });
  await expect(summary.locator("tbody tr")).toHaveCount(crops.length);
  await expect(volume.locator(".recharts-legend-item")).toHaveCount(crops.length);
  const before = await page.screenshot({ path: testInfo.outputPath("analytics-all.png"), fullPage: true });
  await testInfo.attach("analytics, all crops", { body: before, contentType: "image/png" });

  const crop = crops[0] ?? "";
  await select.selectOption(crop);
  await expect(page).toHaveURL(new RegExp(`[?&]crop=${crop}(&|$)`));
  await expect(page).toHaveURL(/[?&]window=30d(&|$)/);
  await expect(volume).toHaveAccessibleName(new RegExp(crop));
  await expect(summary.locator("tbody tr")).toHaveCount(1);
  await expect(summary.locator("tbody th")).toHaveText(crop);
  await expect(volume.locator(".recharts-legend-item")).toHaveCount(1);
  await expect(volume.locator(".recharts-legend-item")).toHaveText(crop);
  await expect(quantity.locator(".recharts-bar-rectangle")).toHaveCount(1);
  const after = await page.screenshot({ path: testInfo.outputPath("analytics-crop.png"), fullPage: true });
  await testInfo.attach(`analytics, ${crop}`, { body: after, contentType: "image/png" });

  await page.getByRole("navigation", { name: "Time window" }).getByRole("link", { name: "24 h" }).click();
  await expect(page).toHaveURL(/[?&]window=24h(&|$)/);
  await expect(page).toHaveURL(new RegExp(`[?&]crop=${crop}(&|$)`));
  await expect(page.getByRole("link", { name: "24 h" })).toHaveAttribute("aria-current", "page");
  expect(errors).toEqual([]);
});
