import { readFile } from "node:fs/promises";
import { expect, test } from "../support/fixtures";
import { E2E_CROP } from "../support/server";
import {
  openControlled,
  outbox,
  recordPosts,
  screenshot,
  serverBatches,
  serviceWorkerSession,
  signInBrowser,
  uniqueTag,
  unsyncedCount,
  waitForFarms,
} from "./support";

test("a batch the server rejects (400) needs attention, is not retried, and can be exported, fixed and resent", async ({
  context,
  page,
  signedIn,
}, testInfo) => {
  const farmer = await signedIn("farmer");
  await signInBrowser(context, farmer);
  const tag = uniqueTag("rejected");
  const sent = recordPosts(context);
  // No farm list on this phone yet, so the farmer types a farm number, and types one that does not exist.
  await context.route("**/api/farms", (route) => route.abort("internetdisconnected"));
  await openControlled(page, "/farmer/new");
  await page.getByLabel("Crop", { exact: true }).fill(E2E_CROP);
  await page.getByLabel("Variety (optional)").fill(`${tag} 0`);
  await page.getByLabel("Quantity", { exact: true }).fill("12");
  await page.getByLabel("Farm", { exact: true }).fill("999999");
  await page.getByRole("button", { name: "Save batch" }).click();

  await expect(unsyncedCount(page)).toHaveText("1 unsynced · 1 to fix");
  const [rejected] = await outbox(page);
  expect(rejected).toMatchObject({ status: "needs-attention", attempts: 1 });
  expect(sent.countFor(rejected?.clientId ?? "")).toBe(1);

  await page.goto("/farmer");
  const item = page.getByTestId("outbox").locator('li[data-status="needs-attention"]');
  await expect(item).toContainText("Needs attention");
  await expect(item.getByTestId("reason")).toContainText("The farm does not exist.");
  await expect(item.getByTestId("reason")).toContainText("farmId: Unknown farm");
  await screenshot(page, testInfo, "dashboard-needs-attention");

  // Every replay path runs again; none sends the rejected batch.
  const worker = await serviceWorkerSession(context, page);
  await worker.dispatchSync();
  await page.getByRole("button", { name: "Sync now" }).click();
  await page.reload();
  await expect(item).toBeVisible();
  expect(sent.countFor(rejected?.clientId ?? "")).toBe(1);
  expect(await outbox(page)).toMatchObject([{ status: "needs-attention", attempts: 1 }]);

  const download = page.waitForEvent("download");
  await item.getByRole("button", { name: "Export" }).click();
  const exported = JSON.parse(await readFile((await (await download).path()) ?? "", "utf8"));
  expect(exported.batches).toMatchObject([
    { clientId: rejected?.clientId, status: "needs-attention", body: { farmId: 999999, variety: `${tag} 0` } },
  ]);

  await context.unroute("**/api/farms");
  await item.getByRole("link", { name: "Fix and resend" }).click();
  await expect(page.getByRole("heading", { name: "Fix and resend" })).toBeVisible();
  await expect(page.getByRole("note")).toContainText("The farm does not exist.");
  await expect(page.getByLabel("Variety (optional)")).toHaveValue(`${tag} 0`);
  await waitForFarms(page);
  await page.getByLabel("Farm", { exact: true }).selectOption("1");
  await page.getByRole("button", { name: "Save and resend" }).click();

  await expect(unsyncedCount(page)).toHaveText("All synced", { timeout: 30_000 });
  const rows = await serverBatches(farmer, tag);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ farm: { id: 1 }, quantity: 12 });
});
