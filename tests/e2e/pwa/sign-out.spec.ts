import { expect, test } from "../support/fixtures";
import { openBatchForm, saveOffline, serverDown, uniqueTag, unsyncedCount } from "./support";

test("signing out with unsynced batches warns first; cancelling keeps the session", async ({
  context,
  page,
  signedIn,
}) => {
  await openBatchForm(context, page, await signedIn("farmer"));
  await serverDown(context);
  await saveOffline(context, page, uniqueTag("sign-out"), 1);
  await context.setOffline(false);
  await expect(unsyncedCount(page)).toHaveText("1 unsynced");

  await page.goto("/signin");
  await expect(page.getByText("You are signed in.")).toBeVisible();
  const warnings: string[] = [];
  page.once("dialog", (dialog) => {
    warnings.push(dialog.message());
    void dialog.dismiss();
  });
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect
    .poll(() => warnings)
    .toEqual([expect.stringContaining("1 batch is saved on this device but not synced yet")]);
  await expect(page.getByText("You are signed in.")).toBeVisible();

  page.once("dialog", (dialog) => void dialog.accept());
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByText("Not signed in.", { exact: false })).toBeVisible();
  expect(await page.evaluate(async () => (await caches.keys()).includes("greenledger-api"))).toBe(false);
});
