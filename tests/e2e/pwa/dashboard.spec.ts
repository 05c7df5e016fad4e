import { expect, test } from "../support/fixtures";
import {
  CREATE_PATH,
  openBatchForm,
  openDashboard,
  outbox,
  saveBatch,
  screenshot,
  serverDown,
  uniqueTag,
  unsyncedCount,
} from "./support";

test("'Sync now' and 'Export unsynced' look disabled exactly when they are", async ({ context, page, signedIn }) => {
  await openDashboard(context, page, await signedIn("farmer"));
  await expect(unsyncedCount(page)).toHaveText("All synced");
  const sync = page.getByRole("button", { name: "Sync now" });
  const exportAll = page.getByRole("button", { name: "Export unsynced (JSON)" });
  const look = (button: typeof sync) =>
    button.evaluate((element) => {
      const style = getComputedStyle(element);
      return { color: style.color, background: style.backgroundColor, border: style.borderStyle, cursor: style.cursor };
    });

  await expect(sync).toBeEnabled();
  await expect(exportAll).toBeDisabled();
  const enabled = await look(sync);
  const disabled = await look(exportAll);
  expect(disabled.color).not.toBe(enabled.color);
  expect(disabled.background).not.toBe(enabled.background);
  expect(disabled.border).not.toBe(enabled.border);
  expect(disabled.cursor).toBe("not-allowed");

  await context.setOffline(true);
  await expect(sync).toBeDisabled();
  expect(await look(sync)).toEqual(disabled);
  await context.setOffline(false);
  await expect(sync).toBeEnabled();
  expect(await look(sync)).toEqual(enabled);
});

test("the warning that the browser may clear saved batches shows only while unsynced batches are on a phone without persistent storage", async ({
  context,
  page,
  signedIn,
}) => {
  // What a browser that refused persistent storage answers.
  await context.addInitScript(() => {
    StorageManager.prototype.persist = async () => false;
    StorageManager.prototype.persisted = async () => false;
  });
  await openBatchForm(context, page, await signedIn("farmer"));
  const warning = page.getByText(/browser may clear/);
  await serverDown(context);
  await saveBatch(page, uniqueTag("storage"), 0);
  await page.goto("/farmer");
  await expect(page.getByTestId("outbox").locator("li")).toHaveCount(1);
  await expect(warning).toBeVisible();

  await context.unroute(`**${CREATE_PATH}`);
  await page.getByRole("button", { name: "Sync now" }).click();
  await expect(page.getByTestId("sync-state")).toHaveText("Everything saved on this phone has reached the ledger.", {
    timeout: 30_000,
  });
  await expect(warning).toHaveCount(0);
});

test("a failed try says in plain words what happened and counts down to the next try", async ({
  context,
  page,
  signedIn,
}, testInfo) => {
  await openBatchForm(context, page, await signedIn("farmer"));
  await context.route(`**${CREATE_PATH}`, (route) =>
    route.request().method() === "POST" ? route.abort("internetdisconnected") : route.fallback(),
  );
  await saveBatch(page, uniqueTag("retry"), 0);
  await page.goto("/farmer");
  const reason = page.getByTestId("outbox").getByTestId("reason");
  await expect(reason).toContainText("No connection to the server.");
  await expect(reason).not.toContainText("Failed to fetch");
  await expect(reason).toContainText(/Next try in \d+ s\./);

  // Kept current: without a new try in between, the count goes down on its own.
  const seconds = async () => Number(/Next try in (\d+) s/.exec((await reason.textContent()) ?? "")?.[1] ?? Number.NaN);
  await expect.poll(async () => (await outbox(page))[0]?.attempts ?? 0, { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
  const first = await seconds();
  await expect.poll(seconds, { timeout: 10_000 }).toBeLessThan(first);

  await context.unroute(`**${CREATE_PATH}`);
  await serverDown(context);
  await page.getByRole("button", { name: "Sync now" }).click();
  await expect(reason).toContainText(/^The server is busy\. Next try in \d+ (s|min)\.$/);
  await screenshot(page, testInfo, "dashboard-retry-countdown");
});

test("a batch whose reply was lost shows once, as on the ledger, and leaves the outbox", async ({
  context,
  page,
  signedIn,
}) => {
  await openBatchForm(context, page, await signedIn("farmer"));
  let committed = false;
  await context.route(`**${CREATE_PATH}`, async (route) => {
    if (route.request().method() !== "POST") return route.fallback();
    // The first try reaches the server and its reply is lost; every later try finds no network.
    if (!committed) {
      await route.fetch();
      committed = true;
      return route.abort("connectionreset");
    }
    return route.abort("internetdisconnected");
  });
  await saveBatch(page, uniqueTag("lost-reply"), 0);
  await expect.poll(() => committed).toBe(true);
  const [saved] = await outbox(page);
  expect(saved).toMatchObject({ status: "pending" });

  await page.goto("/farmer");
  const entries = page.locator(`[data-client-id="${saved?.clientId}"]`);
  await expect(page.getByTestId("synced-batches").locator(`[data-client-id="${saved?.clientId}"]`)).toBeVisible();
  await expect(entries).toHaveCount(1);
  await expect.poll(() => outbox(page)).toEqual([]);
  await expect(unsyncedCount(page)).toHaveText("All synced");
  await expect(page.getByTestId("sync-state")).toHaveText("Everything saved on this phone has reached the ledger.");
});

test("offline, the ledger list says how old it is: 'as of' the time the server sent it", async ({
  context,
  page,
  signedIn,
}) => {
  await openDashboard(context, page, await signedIn("farmer"));
  await expect
    .poll(() => page.evaluate(async () => (await caches.match("/api/crop-batches?limit=20")) !== undefined))
    .toBe(true);
  await expect(page.getByTestId("ledger-as-of")).toHaveCount(0);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId("synced-batches").locator("li").first()).toBeVisible();
  const sent = await page.evaluate(async () => {
    const date = (await caches.match("/api/crop-batches?limit=20"))?.headers.get("date");
    return date ? new Date(date).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" }) : null;
  });
  expect(sent).not.toBeNull();
  await expect(page.getByTestId("ledger-as-of")).toContainText(`as of ${sent}`);

  // Back online the list reloads (the worker waits 3 s for the server, so a busy one may take a second round).
  await context.setOffline(false);
  await expect(page.getByTestId("ledger-as-of")).toHaveCount(0, { timeout: 30_000 });
});
