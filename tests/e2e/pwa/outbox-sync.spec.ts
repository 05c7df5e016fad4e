import { verifiedOnChain } from "../support/api";
import { expect, test } from "../support/fixtures";
import { PUBLIC_BASE_URL } from "../support/server";
import {
  CREATE_PATH,
  openBatchForm,
  outbox,
  recordPosts,
  saveOffline,
  screenshot,
  serverBatches,
  uniqueTag,
  unsyncedCount,
} from "./support";

test("20 batches saved offline survive two reloads and reach the server exactly once while 30% of replies are lost", async ({
  context,
  page,
  signedIn,
}, testInfo) => {
  const farmer = await signedIn("farmer");
  const tag = uniqueTag("twenty");
  const sent = recordPosts(context);
  await openBatchForm(context, page, farmer);

  const saved = await saveOffline(context, page, tag, 20);
  await expect(unsyncedCount(page)).toHaveText("20 unsynced");
  expect(new Set(saved).size).toBe(20);

  await page.reload();
  await expect(unsyncedCount(page)).toHaveText("20 unsynced");
  await page.goto("/farmer");
  await page.reload();
  await expect(page.getByTestId("outbox").locator('li[data-status="pending"]')).toHaveCount(20);
  await screenshot(page, testInfo, "dashboard-offline-20-waiting");
  expect(sent.posts).toEqual([]);

  // Every third-ish reply is lost after the server committed the batch, as on a flaky rural network.
  let replies = 0;
  let dropped = 0;
  await context.route(`**${CREATE_PATH}`, async (route) => {
    if (route.request().method() !== "POST") return route.fallback();
    const response = await route.fetch();
    replies += 1;
    if (replies % 10 < 3) {
      dropped += 1;
      return route.abort("connectionreset");
    }
    return route.fulfill({ response });
  });
  await context.setOffline(false);

  await expect(unsyncedCount(page)).toHaveText("All synced", { timeout: 60_000 });
  expect(await outbox(page)).toEqual([]);
  expect(dropped).toBeGreaterThanOrEqual(6);

  const rows = await serverBatches(farmer, tag);
  expect(rows).toHaveLength(20);
  expect(rows.map((row) => row.clientId).sort()).toEqual([...saved].sort());

  const token = rows.find((row) => row.variety === `${tag} 19`)?.tokenId;
  const listed = page
    .getByTestId("synced-batches")
    .locator("li")
    .filter({ hasText: `${tag} 19` });
  await expect(listed).toContainText(`#${token}`);
  await screenshot(page, testInfo, "dashboard-synced");

  await listed.getByRole("link").click();
  await expect(page.getByRole("heading", { name: `Batch #${token}` })).toBeVisible();
  await expect(page.getByRole("img", { name: /QR code linking to/ })).toHaveAttribute(
    "alt",
    new RegExp(`/verify/${token}$`),
  );
  const label = await page.request.get(`/farmer/batches/${token}/label.svg`);
  expect(label.headers()["content-type"]).toBe("image/svg+xml");
  expect(await label.text()).toContain("<svg");
  await screenshot(page, testInfo, "batch-page-qr");

  // The label's link is the public verification page; once the relayer has minted the batch it says so.
  await verifiedOnChain(farmer, token ?? 0);
  const href = await page.getByRole("link", { name: "Open verification" }).getAttribute("href");
  expect(href).toBe(`${PUBLIC_BASE_URL}/verify/${token}`);
  await page.goto(new URL(href ?? "").pathname);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Verified");
});
