import type { APIRequestContext, BrowserContext, CDPSession, Page, TestInfo } from "@playwright/test";
import { expect } from "@playwright/test";
import type { MyBatch, MyBatchesPage } from "@/lib/batches/list-my-batches";
import { SESSION_COOKIE } from "../support/auth";
import { BASE_URL, E2E_CROP } from "../support/server";

export const SYNC_TAG = "crop-batch-sync";
export const CREATE_PATH = "/api/crop-batches";

/** Gives the browser the session an HTTP sign-in got, as a wallet sign-in on /signin would. */
export async function signInBrowser(context: BrowserContext, api: APIRequestContext): Promise<void> {
  const { cookies } = await api.storageState();
  await context.addCookies(cookies.filter((cookie) => cookie.name === SESSION_COOKIE));
}

/** Opens a page and waits until the service worker has installed (precache done) and controls it. */
export async function openControlled(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await page.evaluate(() => navigator.serviceWorker.ready);
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
}

export async function waitForFarms(page: Page): Promise<void> {
  await expect(page.locator("#batch-farmId option").first()).toBeAttached();
}

/** Logs one batch through the form; `tag` goes into the variety so the test can find its rows. */
export async function saveBatch(page: Page, tag: string, index: number): Promise<void> {
  await page.getByLabel("Crop", { exact: true }).fill(E2E_CROP);
  await page.getByLabel("Variety (optional)").fill(`${tag} ${index}`);
  await page.getByLabel("Quantity", { exact: true }).fill(String(10 + index));
  await page.getByRole("button", { name: "Save batch" }).click();
  await expect(page.getByTestId("saved-message")).toContainText(`Saved ${E2E_CROP}`);
  await expect(page.getByLabel("Crop", { exact: true })).toHaveValue("");
}

export function unsyncedCount(page: Page) {
  return page.getByTestId("unsynced-count");
}

/** The outbox exactly as IndexedDB holds it, read without the app's code. */
export function outbox(page: Page): Promise<{ clientId: string; status: string; attempts: number }[]> {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open("greenledger-offline");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const request = open.result.transaction("pending-batches").objectStore("pending-batches").getAll();
          request.onerror = () => reject(request.error);
          request.onsuccess = () => {
            open.result.close();
            resolve(request.result);
          };
        };
      }),
  );
}

/** Every batch the signed-in farmer owns whose variety carries this test's tag, from the server. */
export async function serverBatches(api: APIRequestContext, tag: string): Promise<MyBatch[]> {
  const found: MyBatch[] = [];
  let cursor: string | null = null;
  do {
    const response = await api.get(`${CREATE_PATH}?limit=100${cursor ? `&cursor=${cursor}` : ""}`);
    expect(response.status()).toBe(200);
    const page = (await response.json()) as MyBatchesPage;
    found.push(...page.results.filter((batch) => batch.variety?.startsWith(`${tag} `)));
    cursor = page.nextCursor;
  } while (cursor);
  return found;
}

/** Counts the POSTs that carried each client id, whoever sent them (page or worker). */
export function recordPosts(context: BrowserContext) {
  const posts: { clientId: string; fromWorker: boolean }[] = [];
  context.on("request", (request) => {
    if (request.method() !== "POST" || new URL(request.url()).pathname !== CREATE_PATH) return;
    const body = request.postDataJSON() as { clientId: string };
    posts.push({ clientId: body.clientId, fromWorker: request.serviceWorker() !== null });
  });
  return {
    posts,
    countFor: (clientId: string) => posts.filter((post) => post.clientId === clientId).length,
  };
}

/** Fires the worker's `sync` event the way the browser does, deterministically (Chromium DevTools protocol). */
export async function serviceWorkerSession(context: BrowserContext, page: Page) {
  const cdp: CDPSession = await context.newCDPSession(page);
  const registrations = new Map<string, string>();
  cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations: updated }) => {
    for (const registration of updated) {
      if (!registration.isDeleted) registrations.set(registration.scopeURL, registration.registrationId);
    }
  });
  await cdp.send("ServiceWorker.enable");
  return {
    /** What the browser does to an idle or misbehaving worker, at any moment. */
    stopWorkers: () => cdp.send("ServiceWorker.stopAllWorkers"),
    dispatchSync: async () => {
      await expect.poll(() => registrations.get(`${BASE_URL}/`)).toBeTruthy();
      await cdp.send("ServiceWorker.dispatchSyncEvent", {
        origin: BASE_URL,
        registrationId: registrations.get(`${BASE_URL}/`) ?? "",
        tag: SYNC_TAG,
        lastChance: false,
      });
    },
  };
}

export async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

export function uniqueTag(label: string): string {
  return `pwa-${label}-${Date.now().toString(36)}`;
}

/** The farmer signed in on this browser, on the new-batch form, with the worker in control and the farms loaded. */
export async function openBatchForm(context: BrowserContext, page: Page, farmer: APIRequestContext): Promise<void> {
  await signInBrowser(context, farmer);
  await openControlled(page, "/farmer/new");
  await waitForFarms(page);
}

/** The farmer signed in on this browser, on the dashboard with the worker in control and the ledger list shown. */
export async function openDashboard(context: BrowserContext, page: Page, farmer: APIRequestContext): Promise<void> {
  await signInBrowser(context, farmer);
  await openControlled(page, "/farmer");
  await expect(page.getByTestId("synced-batches").locator("li").first()).toBeVisible();
}

/** Saves `count` batches with no network; returns their client ids as the outbox holds them. */
export async function saveOffline(context: BrowserContext, page: Page, tag: string, count: number): Promise<string[]> {
  await context.setOffline(true);
  for (let index = 0; index < count; index += 1) await saveBatch(page, tag, index);
  return (await outbox(page)).map((batch) => batch.clientId);
}

/** Answers every batch POST with a 503, so what the phone saves stays on it (as while the server is down). */
export async function serverDown(context: BrowserContext): Promise<void> {
  await context.route(`**${CREATE_PATH}`, (route) =>
    route.request().method() === "POST"
      ? route.fulfill({
          status: 503,
          json: { error: { code: "service_unavailable", message: "Database unavailable" } },
        })
      : route.fallback(),
  );
}

/** Records every layout shift not caused by input, from the first paint on, for `layoutShift`. */
export async function recordLayoutShifts(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const shifts: number[] = [];
    (window as unknown as { __shifts: number[] }).__shifts = shifts;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as unknown as { value: number; hadRecentInput: boolean }[]) {
        if (!entry.hadRecentInput) shifts.push(entry.value);
      }
    }).observe({ type: "layout-shift", buffered: true });
  });
}

/** The page's cumulative layout shift so far (one session window is enough for a page that settles in seconds). */
export function layoutShift(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __shifts: number[] }).__shifts.reduce((sum, v) => sum + v, 0));
}

/** The photos and certificates waiting on the phone, as IndexedDB holds them (without their bytes). */
export function pendingFiles(page: Page): Promise<
  {
    id: string;
    kind: string;
    size: number;
    status: string;
    attempts: number;
    tokenId: number | null;
    sentBytes: number;
  }[]
> {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open("greenledger-files");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains("pending-files")) {
            db.close();
            return resolve([]);
          }
          const request = db.transaction("pending-files").objectStore("pending-files").getAll();
          request.onerror = () => reject(request.error);
          request.onsuccess = () => {
            db.close();
            resolve(request.result);
          };
        };
      }),
  );
}

/** Counts, per attachment id, its declarations (POST on the batch) and its tus requests, whoever sent them. */
export function recordFileRequests(context: BrowserContext) {
  const declared: string[] = [];
  const uploads: string[] = [];
  context.on("request", (request) => {
    const { pathname } = new URL(request.url());
    if (request.method() === "POST" && /^\/api\/crop-batches\/\d+\/attachments$/.test(pathname)) {
      declared.push((request.postDataJSON() as { id: string }).id);
    } else if (pathname === "/api/uploads" && request.method() === "POST") {
      const metadata = /attachmentId ([^,\s]+)/.exec(request.headers()["upload-metadata"] ?? "")?.[1] ?? "";
      uploads.push(Buffer.from(metadata, "base64").toString("utf8"));
    } else if (pathname.startsWith("/api/uploads/")) {
      uploads.push(pathname.slice("/api/uploads/".length));
    }
  });
  const count = (list: string[], id: string) => list.filter((item) => item === id).length;
  return {
    declarations: (id: string) => count(declared, id),
    uploads: (id: string) => count(uploads, id),
    total: () => declared.length + uploads.length,
  };
}
