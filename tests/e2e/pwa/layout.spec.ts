import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "../support/fixtures";
import {
  layoutShift,
  openBatchForm,
  recordLayoutShifts,
  saveBatch,
  serverDown,
  uniqueTag,
  unsyncedCount,
} from "./support";

test("the farmer pages do not shift under the thumb, and pass axe, signed in with batches waiting", async ({
  context,
  page,
  signedIn,
}, testInfo) => {
  await openBatchForm(context, page, await signedIn("farmer"));
  await serverDown(context);
  const tag = uniqueTag("layout");
  for (let index = 0; index < 2; index += 1) await saveBatch(page, tag, index);
  await recordLayoutShifts(context);

  for (const path of ["/farmer", "/farmer/new"]) {
    await page.goto(path);
    await expect(unsyncedCount(page)).toHaveText("2 unsynced");
    if (path === "/farmer") await expect(page.getByTestId("synced-batches").locator("li").first()).toBeVisible();
    else await expect(page.locator("#batch-farmId option").first()).toBeAttached();
    await page.waitForLoadState("networkidle");
    expect(await layoutShift(page), `layout shift on ${path}`).toBeLessThan(0.1);

    const results = await new AxeBuilder({ page })
      .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"])
      .analyze();
    await testInfo.attach(`axe ${path}`, {
      body: JSON.stringify(results.violations, null, 2),
      contentType: "application/json",
    });
    expect(
      results.violations.map((violation) => `${violation.id}: ${violation.help}`),
      path,
    ).toEqual([]);
  }
});
