import type { Page, TestInfo } from "@playwright/test";
import { type BatchSummary, search, searchAll } from "../support/api";
import { expect, test } from "../support/fixtures";

const FOR_SALE = [0, 1, 2];
const SEARCH_PATH = "/api/crop-batches/search";
const ROWS = '[data-testid="batch-row"]';

function searchRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname === SEARCH_PATH) seen.push(request.postData() ?? "");
  });
  return seen;
}

function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  return errors;
}

async function renderedIds(page: Page): Promise<number[]> {
  return page
    .locator(`${ROWS} a`)
    .evaluateAll((links) => links.map((link) => Number(link.getAttribute("href")?.split("/").pop())));
}

/** The rendered rows are the first ones the API returns for the same filter, in its order. */
async function expectFirstRows(page: Page, expected: BatchSummary[]): Promise<void> {
  const ids = expected.map((row) => row.tokenId);
  await expect
    .poll(async () => {
      const shown = await renderedIds(page);
      return shown.length >= Math.min(ids.length, 3) && shown.join() === ids.slice(0, shown.length).join();
    })
    .toBe(true);
}

/** Selects change the URL only once React has hydrated the form. */
async function open(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await page.waitForLoadState("networkidle");
}

async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: false });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

test("the first page is server-rendered and not fetched again", async ({ page, request }, testInfo) => {
  const expected = await search(request, { states: FOR_SALE, limit: 30 });
  const html = await (await request.get("/marketplace")).text();
  expect(html.match(/data-testid="batch-row"/g)?.length ?? 0).toBeGreaterThanOrEqual(5);
  const first = expected.results[0];
  expect(html).toContain(`href="/batches/${first?.tokenId}"`);

  const requests = searchRequests(page);
  const errors = pageErrors(page);
  const response = await page.goto("/marketplace");
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle("Marketplace · GreenLedger");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Marketplace");
  await expectFirstRows(page, expected.results);
  await page.waitForLoadState("networkidle");
  expect(requests).toEqual([]);
  await expect(page.locator(`${ROWS} img`).first()).toHaveAttribute("loading", "lazy");
  await screenshot(page, testInfo, "marketplace-desktop");
  expect(errors).toEqual([]);
});

test("the home page and the site navigation link to the marketplace", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("main").getByRole("link", { name: "marketplace" }).click();
  await expect(page).toHaveURL(/\/marketplace$/);
  await page.goto("/verify/1");
  await page.getByRole("navigation", { name: "Site" }).getByRole("link", { name: "Marketplace" }).click();
  await expect(page).toHaveURL(/\/marketplace$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Marketplace");
});

test("crop and certification filters live in the URL; reload and back keep them", async ({ page, request }) => {
  await open(page, "/marketplace");
  await page.getByLabel("Crop type").selectOption("tomato");
  await expect(page).toHaveURL(/\/marketplace\?crop=tomato$/);
  const tomatoes = await search(request, { cropType: "tomato", states: FOR_SALE, limit: 30 });
  await expectFirstRows(page, tomatoes.results);

  await page.getByLabel("Certification", { exact: true }).selectOption("EU Organic");
  await expect(page).toHaveURL(/crop=tomato&cert=EU\+Organic$/);
  const organic = await search(request, {
    cropType: "tomato",
    certification: "EU Organic",
    states: FOR_SALE,
    limit: 30,
  });
  expect(organic.results.length).toBeGreaterThan(0);
  await expectFirstRows(page, organic.results);
  for (const row of await page.locator(ROWS).all()) await expect(row.getByText("EU Organic")).toBeVisible();

  await page.reload();
  await expect(page.getByLabel("Crop type")).toHaveValue("tomato");
  await expect(page.getByLabel("Certification", { exact: true })).toHaveValue("EU Organic");
  await expectFirstRows(page, organic.results);

  await page.goBack();
  await expect(page).toHaveURL(/\/marketplace\?crop=tomato$/);
  await expect(page.getByLabel("Certification", { exact: true })).toHaveValue("");
  await expectFirstRows(page, tomatoes.results);
});

test("choosing a sort reorders the list and keeps the sort in the URL and in later pages", async ({
  page,
  request,
}) => {
  const requests = searchRequests(page);
  await open(page, "/marketplace?pageSize=10");
  const newest = (await search(request, { states: FOR_SALE, limit: 10 })).results;
  await expectFirstRows(page, newest);
  const sorts = [
    ["quality", "Highest quality first"],
    ["quantity", "Largest quantity first"],
    ["oldest", "Oldest harvest first"],
  ] as const;
  for (const [sort, label] of sorts) {
    await page.getByLabel("Sort by").selectOption({ label });
    await expect(page).toHaveURL(new RegExp(`\\?sort=${sort}&pageSize=10$`));
    const sorted = (await search(request, { sort, states: FOR_SALE, limit: 10 })).results;
    expect(sorted.map((row) => row.tokenId)).not.toEqual(newest.map((row) => row.tokenId));
    await expectFirstRows(page, sorted);
  }
  const qualities = (await search(request, { sort: "quality", states: FOR_SALE, limit: 10 })).results.map(
    (row) => row.qualityScore,
  );
  expect(qualities).toEqual(qualities.toSorted((a, b) => b - a));

  await page.reload();
  await expect(page.getByLabel("Sort by")).toHaveValue("oldest");
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await expect.poll(() => requests.length).toBeGreaterThanOrEqual(1);
  expect(JSON.parse(requests.at(-1) ?? "{}")).toMatchObject({ sort: "oldest", cursor: expect.any(String) });

  await page.evaluate(() => window.scrollTo(0, 0));
  await page.getByLabel("Sort by").selectOption({ label: "Newest harvest first" });
  await expect(page).toHaveURL(/\/marketplace\?pageSize=10$/);
  await expectFirstRows(page, newest);
});

test("quality, state and region filters narrow the list", async ({ page, request }) => {
  const [region] = (await searchAll(request, { states: [2] })).map((row) => row.farm.region);
  if (!region) throw new Error("no stored batch in the demo data");
  await open(page, "/marketplace");
  await page.getByLabel("Minimum quality").fill("80");
  await page.getByLabel("Minimum quality").press("Enter");
  await expect(page).toHaveURL(/\?minQuality=80$/);
  await expectFirstRows(page, (await search(request, { minQuality: 80, states: FOR_SALE, limit: 30 })).results);

  await page.getByLabel("State").selectOption({ label: "Stored" });
  await expect(page).toHaveURL(/minQuality=80&state=2$/);
  await page.getByLabel("Region").selectOption(region);
  await expect(page).toHaveURL(
    new RegExp(`minQuality=80&state=2&region=${encodeURIComponent(region).replace(/%20/g, "\\+")}$`),
  );
  const expected = await search(request, { minQuality: 80, states: [2], region, limit: 30 });
  if (expected.results.length) await expectFirstRows(page, expected.results);
  else await expect(page.getByText("No batches match these filters.")).toBeVisible();
  for (const row of await page.locator(ROWS).all()) {
    await expect(row.getByText("Stored", { exact: true })).toBeVisible();
    await expect(row).toContainText(region);
  }

  await page.reload();
  await expect(page.getByLabel("Minimum quality")).toHaveValue("80");
  await expect(page.getByLabel("State")).toHaveValue("2");
  await expect(page.getByLabel("Region")).toHaveValue(region);
});

test("harvest dates and free text filter the list", async ({ page, request }) => {
  const all = await searchAll(request, { states: FOR_SALE });
  const to = all[10]?.harvestDate;
  const from = all[60]?.harvestDate;
  if (!from || !to) throw new Error("too few demo batches");
  await open(page, "/marketplace");
  await page.getByLabel("Harvested from").fill(from);
  await page.getByLabel("Harvested to").fill(to);
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(new RegExp(`\\?from=${from}&to=${to}$`));
  await expectFirstRows(
    page,
    (await search(request, { harvestedFrom: from, harvestedTo: to, states: FOR_SALE, limit: 30 })).results,
  );

  await page.getByLabel("Search crops, varieties and farms").fill("marzano");
  await page.getByLabel("Search crops, varieties and farms").press("Enter");
  await expect(page).toHaveURL(new RegExp(`\\?q=marzano&from=${from}&to=${to}$`));
  const expected = await search(request, {
    q: "marzano",
    harvestedFrom: from,
    harvestedTo: to,
    states: FOR_SALE,
    limit: 30,
  });
  if (expected.results.length) await expectFirstRows(page, expected.results);
  else await expect(page.getByText("No batches match these filters.")).toBeVisible();
  for (const row of await page.locator(ROWS).all()) await expect(row).toContainText("San Marzano");

  await page.goBack();
  await expect(page.getByLabel("Search crops, varieties and farms")).toHaveValue("");
  await expect(page.getByLabel("Harvested from")).toHaveValue(from);
});

test("scrolling loads page after page by cursor while the DOM stays bounded", async ({ page, request }) => {
  const every = (await searchAll(request, {})).map((row) => row.tokenId);
  const requests = searchRequests(page);
  await open(page, "/marketplace?state=any&pageSize=10");
  await expectFirstRows(page, (await search(request, { limit: 10 })).results);
  let maxRows = 0;
  for (let pages = 1; pages <= 6; pages += 1) {
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await expect.poll(() => requests.length).toBeGreaterThanOrEqual(pages);
    await expect(page.getByRole("status")).not.toHaveText(/Loading/);
    maxRows = Math.max(maxRows, await page.locator(ROWS).count());
  }
  expect(requests.length).toBeGreaterThanOrEqual(5);
  for (const body of requests) expect(JSON.parse(body)).toMatchObject({ limit: 10, cursor: expect.any(String) });
  expect(maxRows).toBeLessThanOrEqual(40);
  const shown = await renderedIds(page);
  const start = every.indexOf(shown[0] ?? -1);
  expect(start).toBeGreaterThanOrEqual(40);
  expect(shown).toEqual(every.slice(start, start + shown.length));
});

test("a row opens the batch's detail page", async ({ page }) => {
  await open(page, "/marketplace");
  const row = page.locator(ROWS).first();
  const href = await row.locator("a").getAttribute("href");
  await row.click();
  await expect(page).toHaveURL(new RegExp(`${href}$`));
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  // Without a session the actions are a sign-in link, rendered by the server; no wallet code is loaded.
  const signIn = page
    .getByRole("region", { name: "Record an event" })
    .getByRole("link", { name: "Sign in with your wallet" });
  await expect(signIn).toHaveAttribute("href", `/signin?next=${encodeURIComponent(href ?? "")}`);
});

/** What has focus (a result row by its link), and whether it shows a focus outline (a row's is on its card). */
async function focused(page: Page): Promise<{ name: string; outlined: boolean }> {
  return page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    if (!element || element === document.body) return { name: "body", outlined: false };
    const row = element.closest('[data-testid="batch-row"]');
    const style = getComputedStyle(row?.querySelector("article") ?? element);
    return {
      name: row ? `row ${element.getAttribute("href")}` : element.id || element.textContent?.trim() || element.tagName,
      outlined: style.outlineStyle !== "none" && Number.parseFloat(style.outlineWidth) >= 2,
    };
  });
}

test("the keyboard skips to the content, tabs through the filters in order to a result, and Enter opens it", async ({
  page,
}) => {
  await open(page, "/marketplace");
  const rows = await renderedIds(page);
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to main content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport({ ratio: 1 });
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/#main$/);

  const visited: { name: string; outlined: boolean }[] = [];
  for (let presses = 0; presses < 40 && !visited.at(-1)?.name.startsWith("row"); presses += 1) {
    await page.keyboard.press("Tab");
    const now = await focused(page);
    // A date input takes one Tab per part (month, day, year).
    if (now.name !== visited.at(-1)?.name) visited.push(now);
  }
  expect(visited.map((stop) => stop.name)).toEqual([
    "Skip to results",
    "mk-q",
    "mk-crop",
    "mk-cert",
    "mk-valid-cert",
    "mk-quality",
    "mk-from",
    "mk-to",
    "mk-state",
    "mk-region",
    "mk-sort",
    "Apply filters",
    "Clear filters",
    `row /batches/${rows[0]}`,
  ]);
  expect(visited.filter((stop) => !stop.outlined)).toEqual([]);

  await page.keyboard.press("Tab");
  expect(await focused(page)).toEqual({ name: `row /batches/${rows[1]}`, outlined: true });

  // The second skip link jumps over the filters straight to the list.
  await page.locator("#main").focus();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to results" })).toBeInViewport({ ratio: 1 });
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  expect(await focused(page)).toEqual({ name: `row /batches/${rows[0]}`, outlined: true });
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/batches/${rows[0]}$`));
  await expect(page.getByRole("heading", { level: 1 })).toContainText(`batch #${rows[0]}`);
});

test.describe("on a phone", () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test("renders without horizontal scrolling", async ({ page }, testInfo) => {
    await page.goto("/marketplace");
    await expect(page.locator(ROWS).first()).toBeVisible();
    const widths = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
    }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    await screenshot(page, testInfo, "marketplace-phone");
  });

  test("folds the filters behind a Filters (n) button, so the first results show without scrolling", async ({
    page,
  }, testInfo) => {
    await open(page, "/marketplace?crop=tomato");
    const toggle = page.getByRole("button", { name: "Filters (1)" });
    await expect(toggle).toHaveAttribute("aria-expanded", "false");
    await expect(page.getByLabel("Crop type")).toBeHidden();
    await expect(page.getByLabel("Sort by")).toBeVisible();
    await expect(page.locator(ROWS).first()).toBeInViewport({ ratio: 1 });
    await expect(page.locator(ROWS).nth(1)).toBeInViewport();
    expect(await page.evaluate(() => window.scrollY)).toBe(0);

    await toggle.click();
    await expect(toggle).toHaveAttribute("aria-expanded", "true");
    await expect(page.getByLabel("Crop type")).toHaveValue("tomato");
    await page.getByLabel("Certification", { exact: true }).selectOption("EU Organic");
    await expect(page).toHaveURL(/\?crop=tomato&cert=EU\+Organic$/);
    await expect(page.getByRole("button", { name: "Filters (2)" })).toHaveAttribute("aria-expanded", "true");
    await screenshot(page, testInfo, "marketplace-phone-filters-open");
  });

  test("a batch's page fits the screen, long addresses included", async ({ page }, testInfo) => {
    await page.goto("/batches/1");
    const details = page.getByRole("region", { name: "Details" });
    await expect(details).toBeVisible();
    const overflow = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      cards: [...document.querySelectorAll("main section")].map((card) => card.scrollWidth - card.clientWidth),
    }));
    expect(overflow).toEqual({ page: 0, cards: overflow.cards.map(() => 0) });
    await screenshot(page, testInfo, "batch-phone");
  });
});

test("on a desktop the filters are open and there is no Filters button", async ({ page }) => {
  await open(page, "/marketplace");
  await expect(page.getByRole("button", { name: /^Filters/ })).toBeHidden();
  await expect(page.getByLabel("Crop type")).toBeVisible();
  await expect(page.getByLabel("Search crops, varieties and farms")).toBeVisible();
});
