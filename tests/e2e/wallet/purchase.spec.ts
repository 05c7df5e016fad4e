import type { OfferDto } from "@/lib/offers/offer-dto";
import { search, verifiedOnChain } from "../support/api";
import { demoAccount } from "../support/auth";
import { expect, test } from "../support/fixtures";
import { BASE_URL } from "../support/server";
import { installTestWallet, TEST_WALLET_NAME } from "./test-wallet";

test("a buyer offers on a listed batch, the farmer accepts, and the chain moves the token to the buyer", async ({
  browser,
  page,
  signedIn,
}, testInfo) => {
  const buyer = demoAccount("buyer");
  await installTestWallet(page, buyer);
  await page.route(
    (url) => url.host !== new URL(BASE_URL).host,
    (route) => route.abort("internetdisconnected"),
  );
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  const farmer = await signedIn("farmer");
  // Batch 1 is the inspection test's: take another harvested batch of the demo farmer's.
  const listed = (await search(farmer, { states: [0], farmId: 1, limit: 100 })).results.filter(
    (row) => row.tokenId !== 1,
  );
  const batch = listed.at(-1);
  if (!batch) throw new Error("the demo data has no harvested batch on farm 1 besides batch 1");
  await verifiedOnChain(farmer, batch.tokenId, 0);

  await page.goto("/signin");
  await page.getByRole("button", { name: "Connect Wallet" }).click();
  const modal = page.getByRole("dialog");
  await modal.getByRole("button", { name: TEST_WALLET_NAME }).click();
  await modal.getByRole("button", { name: "Sign message" }).click();
  await expect(modal).toBeHidden();
  await expect(page.getByTestId("session-role")).toHaveText("buyer");

  await page.goto(`/batches/${batch.tokenId}`);
  const details = page.getByRole("region", { name: "Details" });
  await expect(details.getByText(buyer.address)).toHaveCount(0);
  const actions = page.getByRole("region", { name: "Record an event" });
  await actions.getByLabel("Note to the owner (optional)").fill("Collecting on Friday.");
  await actions.getByRole("button", { name: "Make an offer" }).click();
  await expect(actions.getByRole("status")).toHaveText("Offer sent. The owner will see it on this page.");
  await expect(actions.getByRole("status")).toBeFocused();
  await expect(actions.getByRole("button", { name: "Withdraw offer" })).toBeVisible();
  await expect(actions.getByRole("button", { name: "Make an offer" })).toHaveCount(0);

  const offers = await farmer.get(`/api/crop-batches/${batch.tokenId}/offers`);
  expect(offers.status()).toBe(200);
  const open = ((await offers.json()) as OfferDto[]).filter((offer) => offer.status === "open");
  expect(open).toEqual([expect.objectContaining({ buyerAddress: buyer.address, note: "Collecting on Friday." })]);

  // The farmer accepts on the batch page in a browser of their own, signed in by the session cookie.
  const farmerContext = await browser.newContext({ storageState: await farmer.storageState() });
  try {
    const farmerPage = await farmerContext.newPage();
    await farmerPage.goto(`/batches/${batch.tokenId}`);
    const farmerActions = farmerPage.getByRole("region", { name: "Record an event" });
    const offerList = farmerActions.getByRole("list", { name: "Open offers" }).getByRole("listitem");
    await expect(offerList).toHaveCount(1);
    await expect(offerList).toContainText(buyer.address);
    await expect(offerList).toContainText("Collecting on Friday.");
    await offerList.getByRole("button", { name: `Accept the offer from ${buyer.address}` }).click();
    await expect(farmerActions.getByRole("status")).toHaveText("Offer accepted: the batch is sold.");
    await expect(farmerPage.getByRole("region", { name: "Details" }).getByText("Sold", { exact: true })).toBeVisible();
    await expect(farmerActions.getByRole("list", { name: "Open offers" })).toHaveCount(0);
  } finally {
    await farmerContext.close();
  }

  await page.reload();
  await expect(details.getByText("Sold", { exact: true })).toBeVisible();
  await expect(details.locator("code")).toHaveText(buyer.address);
  await expect(actions.getByRole("button", { name: "Withdraw offer" })).toHaveCount(0);

  const verification = await verifiedOnChain(page.request, batch.tokenId, 3);
  expect(verification.proof.chain.onChainOwner).toBe(buyer.address);
  expect(verification.batch.ownerAddress).toBe(buyer.address);
  const purchased = testInfo.outputPath("purchased.png");
  await page.screenshot({ path: purchased, fullPage: true });
  await testInfo.attach("purchased", { path: purchased, contentType: "image/png" });
  expect(errors).toEqual([]);
});
