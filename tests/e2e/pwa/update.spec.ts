import { expect, test } from "../support/fixtures";
import { openControlled, screenshot, signInBrowser } from "./support";

test("a new worker build waits, is offered as 'reload to update', and applying it keeps the half-filled form", async ({
  context,
  page,
  signedIn,
}, testInfo) => {
  await signInBrowser(context, await signedIn("farmer"));
  await openControlled(page, "/farmer/new");
  await page.getByLabel("Crop", { exact: true }).fill("half-filled maize");
  await page.getByLabel("Quantity", { exact: true }).fill("42");
  await page.getByLabel("Notes (optional)").fill("north field, row 3");

  // A deploy: the same worker with a different build id, as the next `serwist build` would produce.
  await context.route("**/sw.js", async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, body: `${await response.text()}\n// next deploy ${Date.now()}\n` });
  });
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());

  await expect(page.getByRole("button", { name: "Reload to update" })).toBeVisible({ timeout: 30_000 });
  expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting !== null)).toBe(
    true,
  );
  await expect(page.getByLabel("Crop", { exact: true })).toHaveValue("half-filled maize");
  await screenshot(page, testInfo, "update-offered");

  await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Reload to update" }).click()]);
  await expect(page.getByLabel("Crop", { exact: true })).toHaveValue("half-filled maize");
  await expect(page.getByLabel("Quantity", { exact: true })).toHaveValue("42");
  await expect(page.getByLabel("Notes (optional)")).toHaveValue("north field, row 3");
  await expect(page.getByRole("button", { name: "Reload to update" })).toBeHidden();
  expect(
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      return { waiting: registration?.waiting ?? null, controlled: navigator.serviceWorker.controller !== null };
    }),
  ).toEqual({ waiting: null, controlled: true });
});
