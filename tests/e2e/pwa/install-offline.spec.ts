import { expect, test } from "../support/fixtures";
import { openControlled, screenshot, signInBrowser } from "./support";

test("the worker installs, precaches the app shell with revisions and controls the page", async ({
  context,
  page,
  signedIn,
}, testInfo) => {
  await signInBrowser(context, await signedIn("farmer"));
  await openControlled(page, "/farmer");

  const precached = await page.evaluate(async () => {
    const name = (await caches.keys()).find((key) => key.includes("precache"));
    if (!name) return [];
    return (await (await caches.open(name)).keys()).map((request) => request.url);
  });
  const paths = precached.map((url) => new URL(url));
  for (const shell of ["/farmer", "/farmer/new", "/offline"]) {
    const entry = paths.find((url) => url.pathname === shell);
    expect(entry, `${shell} is precached`).toBeDefined();
    expect(entry?.searchParams.get("__WB_REVISION__"), `${shell} carries a revision`).toMatch(/^[0-9a-f]{32}$/);
  }
  expect(paths.some((url) => url.pathname.startsWith("/_next/static/"))).toBe(true);
  // Each script the shell loads as a module is precached; the legacy polyfill no browser with a worker fetches is not.
  const scripts = await page.locator("script[src]").evaluateAll((tags) =>
    tags.map((tag) => ({
      path: new URL((tag as HTMLScriptElement).src).pathname,
      legacy: tag.hasAttribute("nomodule"),
    })),
  );
  const precachedPaths = new Set(paths.map((url) => url.pathname));
  expect(scripts.some((script) => script.legacy)).toBe(true);
  for (const script of scripts) expect(precachedPaths.has(script.path), script.path).toBe(!script.legacy);
  expect(paths.some((url) => url.pathname === "/icons/maskable-512.png")).toBe(true);

  const manifestHref = await page.locator('link[rel="manifest"]').getAttribute("href");
  const manifest = await (await page.request.get(manifestHref ?? "")).json();
  expect(manifest).toMatchObject({ display: "standalone", start_url: "/farmer", theme_color: "#1f6f43" });
  expect(manifest.icons).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ src: "/icons/icon-192.png", type: "image/png" }),
      expect.objectContaining({ src: "/icons/maskable-512.png", purpose: "maskable" }),
    ]),
  );
  await expect(page.getByRole("heading", { name: "Your batches" })).toBeVisible();
  await expect(page.getByTestId("synced-batches").locator("li").first()).toBeVisible();
  await screenshot(page, testInfo, "dashboard-online");
});

test("after one online visit the app opens offline, with the farmer's batches and farms", async ({
  context,
  page,
  signedIn,
}, testInfo) => {
  await signInBrowser(context, await signedIn("farmer"));
  await openControlled(page, "/farmer");
  await expect(page.getByTestId("synced-batches").locator("li").first()).toBeVisible();
  // The first page load raced the worker's install; the app has the worker fetch its data for offline use.
  for (const url of ["/api/farms", "/api/crop-batches?limit=20"]) {
    await expect.poll(() => page.evaluate(async (key) => (await caches.match(key)) !== undefined, url)).toBe(true);
  }

  await context.setOffline(true);
  await page.goto("/farmer/new");
  await expect(page.getByRole("heading", { name: "New batch" })).toBeVisible();
  await expect(page.getByTestId("connection")).toHaveText("Offline");
  await expect(page.locator("#batch-farmId option")).not.toHaveCount(0);
  await screenshot(page, testInfo, "new-batch-offline");

  await page.goto("/farmer");
  await expect(page.getByTestId("synced-batches").locator("li").first()).toBeVisible();
  await expect(page.getByTestId("sync-state")).toContainText("Offline");

  // A page neither precached nor visited gets the offline page, not the browser's error.
  await page.goto("/batches/2");
  await expect(page.getByRole("heading", { name: "You are offline" })).toBeVisible();
  await context.setOffline(false);
});

test("the farmer pages load no wallet library (RainbowKit, wagmi): they only need the session cookie", async ({
  context,
  page,
  signedIn,
}) => {
  await signInBrowser(context, await signedIn("farmer"));
  const scripts: Promise<string>[] = [];
  page.on("response", (response) => {
    // A script still arriving as the test moves on (or ends) has no body to read; it is not one the checks need.
    if (response.request().resourceType() === "script") scripts.push(response.text().catch(() => ""));
  });
  for (const path of ["/farmer", "/farmer/new"]) {
    await page.goto(path);
    await expect(page.getByTestId("unsynced-count")).toBeVisible();
  }
  const bodies = await Promise.all(scripts);
  expect(bodies.length).toBeGreaterThan(0);
  expect(bodies.filter((body) => /rainbowkit|wagmi/i.test(body))).toEqual([]);

  // The sign-in page does load them once a wallet is asked for, so the check above can tell.
  scripts.length = 0;
  await page.goto("/signin");
  await expect(page.getByText("You are signed in.")).toBeVisible();
  await page.getByRole("button", { name: "Connect Wallet" }).click();
  await expect(page.getByRole("dialog")).toBeVisible();
  expect((await Promise.all(scripts)).some((body) => /rainbowkit|wagmi/i.test(body))).toBe(true);
});
