import { expect, test } from "../support/fixtures";
import { BASE_URL } from "../support/server";
import { shippedBatch } from "./support";

test("the owner's batch page shows the shipment move within a second of the carrier's fix, with no request leaving the machine", async ({
  page,
  signedIn,
}) => {
  const farmer = await signedIn("farmer");
  const transporter = await signedIn("transporter");
  const batch = await shippedBatch(farmer);

  const elsewhere: string[] = [];
  page.on("request", (request) => {
    if (new URL(request.url()).origin !== BASE_URL) elsewhere.push(request.url());
  });
  await page.context().addCookies((await farmer.storageState()).cookies);
  await page.goto(`/batches/${batch.tokenId}`);
  const map = page.getByTestId("live-map");
  await expect(map).toBeVisible();
  await expect(page.getByText("Waiting for the carrier's first position")).toBeVisible();

  for (const [index, lat] of [52.1005, 52.10055].entries()) {
    const sent = await transporter.post("/api/transporters/me/positions", {
      data: { fixes: [{ lat, lng: 4.3, accuracy: 6, time: new Date(Date.now() - 1_000 + index).toISOString() }] },
    });
    expect(sent.status(), await sent.text()).toBe(200);
    await expect(map).toHaveAttribute("data-lat", String(lat), { timeout: 1_000 });
  }
  await expect(page.getByText(/Position updated \d+ s ago/)).toBeVisible();
  // The route is drawn: one leg through both fixes.
  await expect(page.locator("path.leaflet-interactive")).toHaveCount(2);
  expect(elsewhere).toEqual([]);
});

test("someone who may not watch the shipment sees no map", async ({ page, signedIn }) => {
  const farmer = await signedIn("farmer");
  const buyer = await signedIn("buyer");
  const batch = await shippedBatch(farmer);
  await page.context().addCookies((await buyer.storageState()).cookies);
  await page.goto(`/batches/${batch.tokenId}`);
  await expect(page.getByRole("heading", { name: /batch #/ })).toBeVisible();
  await expect(page.getByTestId("live-map")).toHaveCount(0);
});
