import { writeFile } from "node:fs/promises";
import { type BatchWithTimeline, createBatch } from "../support/api";
import { demoAccount, demoAddress } from "../support/auth";
import { expect, test } from "../support/fixtures";
import { BASE_URL } from "../support/server";
import { installTestWallet, TEST_WALLET_NAME } from "./test-wallet";

test("an inspector signs in with an injected wallet and records an inspection", async ({ page }, testInfo) => {
  const inspector = demoAccount("inspector");
  const walletCalls = await installTestWallet(page, inspector);
  // Nothing leaves the machine: mainnet's public RPC (RainbowKit's ENS look-ups) gets a network error instead.
  const blocked: string[] = [];
  await page.route(
    (url) => url.host !== new URL(BASE_URL).host,
    (route) => {
      blocked.push(route.request().url());
      return route.abort("internetdisconnected");
    },
  );
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  await page.goto("/signin");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Connect wallet and sign in");
  await page.getByRole("button", { name: "Connect Wallet" }).click();
  const modal = page.getByRole("dialog");
  await modal.getByRole("button", { name: TEST_WALLET_NAME }).click();
  await modal.getByRole("button", { name: "Sign message" }).click();
  await expect(modal).toBeHidden();
  await expect(page.getByTestId("session-address")).toHaveText(inspector.address);
  await expect(page.getByTestId("session-role")).toHaveText("inspector");
  const signedIn = testInfo.outputPath("signed-in.png");
  await page.screenshot({ path: signedIn, fullPage: true });
  await testInfo.attach("signed-in", { path: signedIn, contentType: "image/png" });

  await page.goto("/batches/1");
  const timeline = page.getByRole("list", { name: "Custody timeline" }).getByRole("listitem");
  await expect(timeline.first()).toContainText("Harvested and recorded");
  const before = await timeline.count();
  const actions = page.getByRole("region", { name: "Record an event" });
  await actions.getByRole("button", { name: "Inspect: conformant" }).click();
  await expect(actions.getByRole("status")).toHaveText("Inspection recorded.");
  await expect(timeline).toHaveCount(before + 1);
  const added = timeline.last();
  await expect(added).toContainText("Inspected");
  await expect(added).toContainText("inspecting");
  await expect(added).toContainText("conformant");
  await expect(added).toContainText(inspector.address);

  // The same browser context (and so the same session cookie) reads the batch over the API.
  const response = await page.request.get("/api/crop-batches/1");
  expect(response.status()).toBe(200);
  const batch = (await response.json()) as BatchWithTimeline;
  expect(batch.timeline).toHaveLength(before + 1);
  expect(batch.timeline.at(-1)).toMatchObject({
    bizStep: "inspecting",
    disposition: "conformant",
    actorAddress: inspector.address,
  });
  const batchPage = testInfo.outputPath("batch-1.png");
  await page.screenshot({ path: batchPage, fullPage: true });
  await testInfo.attach("batch-1", { path: batchPage, contentType: "image/png" });

  await page.goto("/signin");
  // The wallet reconnected on its own after the navigations: RainbowKit's account button shows 0x90…b906.
  const shortAddress = new RegExp(`${inspector.address.slice(0, 4)}.*${inspector.address.slice(-4)}`, "i");
  await expect(page.getByRole("button", { name: shortAddress })).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByText("Not signed in.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Connect Wallet" })).toBeVisible();
  expect((await page.request.get("/api/auth/session")).status()).toBe(401);

  const calls = testInfo.outputPath("wallet-calls.json");
  await writeFile(calls, JSON.stringify({ walletCalls, blocked }, null, 2));
  await testInfo.attach("wallet-calls", { path: calls, contentType: "application/json" });
  expect(walletCalls).toContain("personal_sign");
  expect(walletCalls).toContain("wallet_revokePermissions");
  expect(errors).toEqual([]);
});

test("the sign-in page loads the wallet code only once a wallet is asked for", async ({ page }) => {
  await installTestWallet(page, demoAccount("buyer"));
  await page.route(
    (url) => url.host !== new URL(BASE_URL).host,
    (route) => route.abort("internetdisconnected"),
  );
  const scripts: Promise<{ url: string; wallet: boolean }>[] = [];
  page.on("response", (response) => {
    if (response.request().resourceType() !== "script") return;
    // A response still arriving when the test ends must not fail it.
    const wallet = response.text().then(
      (body) => /rainbowkit|wagmi/i.test(body),
      () => false,
    );
    scripts.push(wallet.then((found) => ({ url: response.url(), wallet: found })));
  });

  await page.goto("/signin");
  await expect(page.getByText("Not signed in.", { exact: false })).toBeVisible();
  await page.waitForLoadState("networkidle");
  const firstLoad = await Promise.all(scripts);
  expect(firstLoad.length).toBeGreaterThan(0);
  expect(firstLoad.filter((script) => script.wallet).map((script) => script.url)).toEqual([]);

  await page.getByRole("button", { name: "Connect Wallet" }).click();
  await expect(page.getByRole("dialog").getByRole("button", { name: TEST_WALLET_NAME })).toBeVisible();
  expect((await Promise.all(scripts)).some((script) => script.wallet)).toBe(true);
});

test("the batch page is a 404 for unknown and malformed token ids", async ({ page }) => {
  for (const tokenId of ["999999999", "0", "abc", "1.5", "99999999999999999"]) {
    const response = await page.goto(`/batches/${tokenId}`);
    expect(response?.status(), tokenId).toBe(404);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Batch not found");
  }
});

test("the owner ships a batch from its page, and sees the API's error first", async ({ page, signedIn }) => {
  const farmer = await signedIn("farmer");
  const batch = await createBatch(farmer);
  // Signed in over HTTP: the page goes by the session cookie, with or without a wallet connected.
  await page.context().addCookies((await farmer.storageState()).cookies);

  await page.goto(`/batches/${batch.tokenId}`);
  const actions = page.getByRole("region", { name: "Record an event" });
  await expect(actions.getByRole("button", { name: "Ship" })).toBeVisible();
  await expect(actions.getByRole("button", { name: "Recall" })).toBeVisible();
  await expect(actions.getByRole("button", { name: /^Inspect/ })).toHaveCount(0);

  const transporter = actions.getByLabel("Transporter address (optional)");
  await transporter.fill("0x123");
  await actions.getByRole("button", { name: "Ship" }).click();
  await expect(actions.getByRole("alert")).toHaveText(
    "The request is invalid. transporter: must be a 0x-prefixed 20-byte EVM address",
  );
  await expect(actions.getByRole("alert")).toBeFocused();

  await transporter.fill(demoAddress("transporter"));
  await actions.getByRole("button", { name: "Ship" }).click();
  await expect(actions.getByRole("status")).toHaveText("Shipment recorded.");
  await expect(actions.getByRole("alert")).toBeEmpty();
  const timeline = page.getByRole("list", { name: "Custody timeline" }).getByRole("listitem");
  await expect(timeline).toHaveCount(2);
  await expect(timeline.last()).toContainText("Shipped");
  await expect(page.getByRole("region", { name: "Details" }).getByText("In transit", { exact: true })).toBeVisible();
  await expect(actions.getByRole("button", { name: "Ship" })).toHaveCount(0);
});
