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
  await expect(volume.locator("rect[data-crop]").first()).toBeVisible();
  await expect(quality.locator("path[data-crop]").first()).toBeVisible();
  await expect(quantity.locator("rect[data-crop]").first()).toBeVisible();

  const select = page.getByRole("combobox", { name: "Crop" });
  const crops = (
    await select.locator("option").evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value))
  ).filter(Boolean);
  expect(crops.length).toBeGreaterThan(1);
  const summary = page.getByRole("table", { name: /^Per crop, last 30 d/ });
  await expect(summary.locator("tbody tr")).toHaveCount(crops.length);
  const legend = volume.getByRole("list", { name: "Legend" }).getByRole("listitem");
  await expect(legend).toHaveCount(crops.length);
  const before = await page.screenshot({ path: testInfo.outputPath("analytics-all.png"), fullPage: true });
  await testInfo.attach("analytics, all crops", { body: before, contentType: "image/png" });

  const crop = crops[0] ?? "";
  await select.selectOption(crop);
  await expect(page).toHaveURL(new RegExp(`[?&]crop=${crop}(&|$)`));
  await expect(page).toHaveURL(/[?&]window=30d(&|$)/);
  await expect(volume).toHaveAccessibleName(new RegExp(crop));
  await expect(summary.locator("tbody tr")).toHaveCount(1);
  await expect(summary.locator("tbody th")).toHaveText(crop);
  await expect(legend).toHaveCount(1);
  await expect(legend).toHaveText(crop);
  await expect(quantity.locator("rect[data-crop]")).toHaveCount(1);
  const after = await page.screenshot({ path: testInfo.outputPath("analytics-crop.png"), fullPage: true });
  await testInfo.attach(`analytics, ${crop}`, { body: after, contentType: "image/png" });

  await page.getByRole("navigation", { name: "Time window" }).getByRole("link", { name: "24 h" }).click();
  await expect(page).toHaveURL(/[?&]window=24h(&|$)/);
  await expect(page).toHaveURL(new RegExp(`[?&]crop=${crop}(&|$)`));
  await expect(page.getByRole("link", { name: "24 h" })).toHaveAttribute("aria-current", "page");
  expect(errors).toEqual([]);
});

test("the charts are drawn on the server: they show without JavaScript and no chart library loads", async ({
  browser,
  page,
}) => {
  const scripts: Promise<{ url: string; charts: boolean }>[] = [];
  page.on("response", (response) => {
    if (response.request().resourceType() !== "script") return;
    // A response still arriving when the test ends must not fail it.
    const charts = response.text().then(
      (body) => /recharts/i.test(body),
      () => false,
    );
    scripts.push(charts.then((found) => ({ url: response.url(), charts: found })));
  });
  await page.goto("/analytics?window=30d");
  await page.waitForLoadState("networkidle");
  const loaded = await Promise.all(scripts);
  expect(loaded.length).toBeGreaterThan(0);
  expect(loaded.filter((script) => script.charts).map((script) => script.url)).toEqual([]);

  const context = await browser.newContext({ javaScriptEnabled: false });
  try {
    const plain = await context.newPage();
    await plain.goto("/analytics?window=30d");
    const charts = [
      [/^Volume/, "rect"],
      [/^Average quality/, "path"],
      [/^Median quantity/, "rect"],
    ] as const;
    for (const [name, mark] of charts) {
      await expect(plain.getByRole("figure", { name }).locator(`${mark}[data-crop]`).first()).toBeVisible();
    }
    const volume = plain.getByRole("figure", { name: /^Volume/ });
    // Each bucket's tooltip gives its count: together they are the total the summary states.
    const total = Number(
      (await volume.locator("#volume-summary").textContent())?.match(/^[\d,]+/)?.[0].replace(/,/g, ""),
    );
    const tooltips = await volume.locator("title").allTextContents();
    const counted = tooltips.reduce((sum, text) => sum + Number(text.match(/: (\d+) batches/)?.[1] ?? NaN), 0);
    expect(total).toBeGreaterThan(0);
    expect(counted).toBe(total);
  } finally {
    await context.close();
  }
});
