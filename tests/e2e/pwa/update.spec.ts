import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "../support/fixtures";
import { openControlled, screenshot, signInBrowser } from "./support";

// The test server serves the build's public/ folder from disk, so a changed sw.js there is a new deploy.
const WORKER_FILE = path.resolve("public/sw.js");

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

  const deployed = await readFile(WORKER_FILE, "utf8");
  try {
    await writeFile(WORKER_FILE, `${deployed}\n// e2e: the next deploy (${Date.now()})\n`);
    // What the browser does on its own at the next navigation or periodic check.
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());

    await expect(page.getByRole("button", { name: "Reload to update" })).toBeVisible({ timeout: 30_000 });
    const waiting = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting?.state);
    expect(waiting).toBe("installed");
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
  } finally {
    await writeFile(WORKER_FILE, deployed);
  }
});
