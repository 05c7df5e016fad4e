import { demoAddress } from "../support/auth";
import { expect, test } from "../support/fixtures";
import { openDashboard, unsyncedCount } from "./support";

test("the farmer app has one header: it knows the farmer is signed in, and offline links nowhere it cannot open", async ({
  context,
  page,
  signedIn,
}) => {
  await openDashboard(context, page, await signedIn("farmer"));
  const address = demoAddress("farmer").toLowerCase();
  const signedInAs = new RegExp(`^Signed in as ${address.slice(0, 6)}…${address.slice(-4)}$`, "i");

  const banner = page.getByRole("banner");
  await expect(banner).toHaveCount(1);
  await expect(page.getByTestId("account")).toHaveText(signedInAs);
  await expect(page.getByRole("link", { name: "Sign in", exact: true })).toHaveCount(0);
  await expect(banner.getByRole("link", { name: "Marketplace" })).toBeVisible();
  await expect(unsyncedCount(page)).toHaveText("All synced");

  await context.setOffline(true);
  for (const path of ["/farmer", "/farmer/new"]) {
    await page.goto(path);
    await expect(page.getByTestId("connection")).toHaveText("Offline");
    await expect(page.getByRole("banner")).toHaveCount(1);
    await expect(page.getByTestId("account")).toHaveText(signedInAs);
    await expect(banner).toContainText("Marketplace and analytics need a connection");
    // Every link the header still offers opens offline: only the app's own pages.
    const hrefs = await banner.getByRole("link").evaluateAll((links) => links.map((link) => link.getAttribute("href")));
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(href).toMatch(/^\/farmer(\/|$)/);
  }
  await context.setOffline(false);
});
