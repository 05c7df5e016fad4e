import { expect, test } from "../support/fixtures";
import {
  CREATE_PATH,
  openBatchForm,
  outbox,
  recordPosts,
  saveBatch,
  saveOffline,
  serverBatches,
  serviceWorkerSession,
  uniqueTag,
  unsyncedCount,
} from "./support";

test("the Background Sync event alone delivers (fired over CDP, no page left to replay)", async ({
  context,
  page,
  signedIn,
}) => {
  const farmer = await signedIn("farmer");
  const tag = uniqueTag("sync-event");
  const sent = recordPosts(context);
  await openBatchForm(context, page, farmer);
  const worker = await serviceWorkerSession(context, page);

  const saved = await saveOffline(context, page, tag, 3);
  // The offline page runs none of the app's code: whatever is sent now, the worker sent.
  await page.goto("/offline");
  await context.setOffline(false);
  await worker.dispatchSync();

  await expect.poll(async () => (await serverBatches(farmer, tag)).length, { timeout: 30_000 }).toBe(3);
  await expect.poll(() => outbox(page)).toEqual([]);
  for (const clientId of saved) expect(sent.countFor(clientId)).toBe(1);
  expect(sent.posts.every((post) => post.fromWorker)).toBe(true);
});

test("without Background Sync (Safari, Firefox) the page delivers on `online` and on load", async ({
  context,
  page,
  signedIn,
}) => {
  const farmer = await signedIn("farmer");
  await context.addInitScript(() => {
    delete (ServiceWorkerRegistration.prototype as { sync?: unknown }).sync;
  });
  const tag = uniqueTag("fallback");
  const sent = recordPosts(context);
  await openBatchForm(context, page, farmer);

  await saveOffline(context, page, tag, 2);
  await context.setOffline(false);
  await expect(unsyncedCount(page)).toHaveText("All synced", { timeout: 30_000 });
  expect((await serverBatches(farmer, tag)).length).toBe(2);

  await context.setOffline(true);
  await saveBatch(page, tag, 2);
  await page.goto("/offline");
  await context.setOffline(false);
  expect(await outbox(page)).toHaveLength(1);
  await page.goto("/farmer");
  await expect(unsyncedCount(page)).toHaveText("All synced", { timeout: 30_000 });

  const rows = await serverBatches(farmer, tag);
  expect(rows).toHaveLength(3);
  for (const row of rows) expect(sent.countFor(row.clientId)).toBe(1);
  expect(sent.posts.some((post) => post.fromWorker)).toBe(false);
});

test("the sync event and the page's replay firing together send each batch once", async ({
  context,
  page,
  signedIn,
}) => {
  const farmer = await signedIn("farmer");
  const tag = uniqueTag("both");
  const sent = recordPosts(context);
  await openBatchForm(context, page, farmer);
  const worker = await serviceWorkerSession(context, page);

  const saved = await saveOffline(context, page, tag, 5);
  await Promise.all([context.setOffline(false), worker.dispatchSync()]);

  await expect(unsyncedCount(page)).toHaveText("All synced", { timeout: 30_000 });
  const rows = await serverBatches(farmer, tag);
  expect(rows.map((row) => row.clientId).sort()).toEqual([...saved].sort());
  for (const clientId of saved) expect(sent.countFor(clientId), `POSTs of ${clientId}`).toBe(1);
});

test("a worker killed after the server committed, before it heard back, loses nothing and duplicates nothing", async ({
  context,
  page,
  signedIn,
}) => {
  const farmer = await signedIn("farmer");
  const tag = uniqueTag("killed");
  const sent = recordPosts(context);
  await openBatchForm(context, page, farmer);
  const worker = await serviceWorkerSession(context, page);
  const [saved] = await saveOffline(context, page, tag, 1);
  await page.goto("/offline");

  let killed = false;
  await context.route(`**${CREATE_PATH}`, async (route) => {
    if (route.request().method() !== "POST" || killed) return route.fallback();
    await route.fetch();
    killed = true;
    await worker.stopWorkers();
    return route.abort("connectionreset");
  });
  await context.setOffline(false);
  await worker.dispatchSync();
  await expect.poll(() => killed).toBe(true);
  // The worker died mid-request: it never recorded the attempt, and the server has the batch.
  expect(await outbox(page)).toMatchObject([{ clientId: saved, status: "pending", attempts: 0 }]);
  expect(await serverBatches(farmer, tag)).toHaveLength(1);

  await page.goto("/farmer");
  await expect(unsyncedCount(page)).toHaveText("All synced", { timeout: 30_000 });
  const rows = await serverBatches(farmer, tag);
  expect(rows.map((row) => row.clientId)).toEqual([saved]);
  expect(sent.countFor(saved ?? "")).toBe(2);
});
