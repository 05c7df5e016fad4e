import { expect, test } from "../support/fixtures";
import { E2E_CROP } from "../support/server";
import { openBatchForm, screenshot, uniqueTag } from "./support";

test("after a save the form starts fresh, and the last batch's farm, date and unit come back only by a visible choice", async ({
  context,
  page,
  signedIn,
}, testInfo) => {
  await openBatchForm(context, page, await signedIn("farmer"));
  const unit = page.getByLabel("Unit", { exact: true });
  const harvested = page.getByLabel("Harvest date");
  const farm = page.getByLabel("Farm", { exact: true });
  const farms = await farm
    .locator("option")
    .evaluateAll((options) => options.map((option) => option.getAttribute("value")));
  const today = await page.evaluate(() => {
    const now = new Date();
    return new Date(now.getTime() - now.getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
  });

  await page.getByLabel("Crop", { exact: true }).fill(E2E_CROP);
  await page.getByLabel("Variety (optional)").fill(`${uniqueTag("reset")} 0`);
  await page.getByLabel("Quantity", { exact: true }).fill("3");
  await unit.selectOption("TNE");
  await harvested.fill("2026-11-01");
  await farm.selectOption(farms[1] ?? "");
  await page.getByRole("button", { name: "Save batch" }).click();
  await expect(page.getByTestId("saved-message")).toContainText(`Saved ${E2E_CROP}`);

  await expect(unit).toHaveValue("KGM");
  await expect(harvested).toHaveValue(today);
  await expect(farm).toHaveValue(farms[0] ?? "");
  const same = page.getByRole("button", { name: /^Same as last batch: .+, 2026-11-01, tonnes$/ });
  await expect(same).toBeVisible();
  await screenshot(page, testInfo, "form-fresh-after-save");

  await same.click();
  await expect(unit).toHaveValue("TNE");
  await expect(harvested).toHaveValue("2026-11-01");
  await expect(farm).toHaveValue(farms[1] ?? "");
  await expect(same).toHaveCount(0);
});
