import type { Locator } from "@playwright/test";
import { demoAddress } from "../support/auth";
import { expect, test } from "../support/fixtures";
import { openDashboard, screenshot, unsyncedCount } from "./support";

/** Nothing in the header is cut off on a phone's width. */
async function expectWhole(banner: Locator): Promise<void> {
  const cut = await banner
    .locator("a, span, li")
    .evaluateAll((items) =>
      items.filter((item) => item.scrollWidth > item.clientWidth + 1).map((item) => item.textContent),
    );
  expect(cut).toEqual([]);
}

test("the farmer app has one header: it knows the farmer is signed in, and offline links nowhere it cannot open", async ({
  context,
  page,
  signedIn,
}, testInfo) => {
  await openDashboard(context, page, await signedIn("farmer"));
  const address = demoAddress("farmer").toLowerCase();
  const signedInAs = new RegExp(`^Signed in: ${address.slice(0, 6)}…${address.slice(-4)}$`, "i");

  const banner = page.getByRole("banner");
  await expect(banner).toHaveCount(1);
  await expect(page.getByTestId("account")).toHaveText(signedInAs);
  await expect(page.getByRole("link", { name: "Sign in", exact: true })).toHaveCount(0);
  await expect(banner.getByRole("link", { name: "Marketplace" })).toBeVisible();
  await expect(unsyncedCount(page)).toHaveText("All synced");
  await expectWhole(banner);

  await context.setOffline(true);
  for (const path of ["/farmer", "/farmer/new"]) {
    await page.goto(path);
    await expect(page.getByTestId("connection")).toHaveText("Offline");
    await expect(page.getByRole("banner")).toHaveCount(1);
    await expect(page.getByTestId("account")).toHaveText(signedInAs);
    // Every link the header still offers opens offline: only the app's own pages.
    const hrefs = await banner.getByRole("link").evaluateAll((links) => links.map((link) => link.getAttribute("href")));
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(href).toMatch(/^\/farmer(\/|$)/);
    await expectWhole(banner);
    await screenshot(page, testInfo, `offline${path.replaceAll("/", "-")}`);
  }
  await context.setOffline(false);
});
