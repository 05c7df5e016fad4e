import { type BatchSummary, getBatch, searchAll } from "../support/api";
import { expect, test } from "../support/fixtures";
import { DEMO_BATCHES, DEMO_FARMS, E2E_CROP } from "../support/server";

// Events the demo seeder writes per final state: commissioning plus the path to it (ship, receive, sell, consume | recall).
const DEMO_EVENTS_BY_STATE = [1, 2, 3, 4, 5, 3];

test("the home page shows the ledger's counts", async ({ page, request }, testInfo) => {
  // Other specs may have added batches before this one ran: count what is there, not what was seeded.
  const rows = await searchAll(request);
  const demo = rows.filter((row) => row.cropType !== E2E_CROP);
  const added = rows.filter((row) => row.cropType === E2E_CROP);
  expect(demo).toHaveLength(DEMO_BATCHES);
  const eventsOf = async (row: BatchSummary) =>
    row.cropType === E2E_CROP
      ? (await getBatch(request, row.tokenId)).timeline.length
      : (DEMO_EVENTS_BY_STATE[row.state] ?? NaN);
  let events = 0;
  for (const row of rows) events += await eventsOf(row);

  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("response", (response) => {
    // public/ ships no favicon; the browser's automatic request for it is not the page's doing.
    if (response.status() >= 400 && new URL(response.url()).pathname !== "/favicon.ico") {
      errors.push(`${response.status()} ${response.url()}`);
    }
  });
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle("GreenLedger");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("GreenLedger");
  const stats = page.getByRole("region", { name: "Ledger at a glance" }).locator(".stat");
  await expect(stats).toHaveText([
    `${(DEMO_BATCHES + added.length).toLocaleString("en")} crop batches`,
    `${DEMO_FARMS} farms`,
    `${events.toLocaleString("en")} custody events`,
  ]);
  await expect(page.getByRole("link", { name: "batch 1" })).toHaveAttribute("href", "/verify/1");

  const screenshot = testInfo.outputPath("home.png");
  await page.screenshot({ path: screenshot, fullPage: true });
  await testInfo.attach("home", { path: screenshot, contentType: "image/png" });
  expect(errors).toEqual([]);
});
