import type { Page, Request } from "@playwright/test";
import { expect, test } from "../support/fixtures";
import { shippedBatch } from "./support";

const POSITIONS = "/api/transporters/me/positions";

type Sent = { at: number; fixes: { lat: number }[] };

function recordPosts(page: Page): Sent[] {
  const sent: Sent[] = [];
  page.on("request", (request: Request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname === POSITIONS) {
      sent.push({ at: Date.now(), fixes: (request.postDataJSON() as { fixes: { lat: number }[] }).fixes });
    }
  });
  return sent;
}

async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((value) => {
    Object.defineProperty(document, "visibilityState", { value: value ? "hidden" : "visible", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  }, hidden);
}

test("the transporter's phone shares its position at most every 5 s, pauses when hidden, and sends what waited offline in one batch", async ({
  page,
  context,
  signedIn,
}) => {
  test.setTimeout(60_000);
  const farmer = await signedIn("farmer");
  const transporter = await signedIn("transporter");
  const batch = await shippedBatch(farmer);

  await context.grantPermissions(["geolocation"]);
  let lat = 52.2;
  // 30 m each move: enough for the phone to keep it, slow enough over half a second for the server to believe it.
  const move = async () => {
    lat += 0.00027;
    await context.setGeolocation({ latitude: lat, longitude: 4.3, accuracy: 10 });
  };
  await context.setGeolocation({ latitude: lat, longitude: 4.3, accuracy: 10 });
  await page.context().addCookies((await transporter.storageState()).cookies);
  const sent = recordPosts(page);
  await page.goto("/transporter");
  await expect(page.getByRole("link", { name: new RegExp(`Batch #${batch.tokenId}`) })).toBeVisible();
  await page.getByRole("button", { name: "Share my position" }).click();
  await expect.poll(() => sent.length).toBe(1);

  for (let step = 0; step < 12; step += 1) {
    await move();
    await page.waitForTimeout(500);
  }
  await expect.poll(() => sent.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId("share-waiting")).toHaveText("Nothing waiting to be sent", { timeout: 10_000 });
  const gaps = sent.slice(1).map((post, index) => post.at - (sent[index]?.at ?? 0));
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(4_900);
  const taken = sent.flatMap((post) => post.fixes).length;

  await setHidden(page, true);
  await expect(page.getByTestId("share-status")).toContainText("Paused");
  const beforeHidden = sent.length;
  for (let step = 0; step < 3; step += 1) await move();
  await page.waitForTimeout(6_000);
  expect(sent.length).toBe(beforeHidden);

  await context.setOffline(true);
  await setHidden(page, false);
  for (let step = 0; step < 3; step += 1) {
    await move();
    await page.waitForTimeout(5_100);
  }
  await expect(page.getByTestId("share-waiting")).toHaveText(/^[2-9] position\(s\) waiting to be sent$/);
  const waiting = Number((await page.getByTestId("share-waiting").textContent())?.split(" ")[0]);
  const beforeOnline = sent.length;
  await context.setOffline(false);
  await expect(page.getByTestId("share-waiting")).toHaveText("Nothing waiting to be sent", { timeout: 10_000 });
  const online = sent.slice(beforeOnline);
  expect(online.map((post) => post.fixes.length)).toEqual([waiting]);
  expect(taken).toBeGreaterThanOrEqual(3);
});
