import { randomBytes } from "node:crypto";
import type { APIRequestContext, Page } from "@playwright/test";
import { batchInput, createBatch, verifiedOnChain } from "../support/api";
import { expect, test } from "../support/fixtures";

const verdict = (page: Page) => page.getByRole("heading", { level: 1 });

async function recalledBatch(farmer: APIRequestContext, reason: string): Promise<number> {
  const batch = await createBatch(farmer);
  const recall = await farmer.post(`/api/crop-batches/${batch.tokenId}/events`, { data: { action: "recall", reason } });
  expect(recall.status(), await recall.text()).toBe(201);
  return batch.tokenId;
}

test.describe("the consumer verification page, with JavaScript off", () => {
  test("a demo batch shows Verified and its proof", async ({ page, request }, testInfo) => {
    const verification = await verifiedOnChain(request, 1);
    const response = await page.goto("/verify/1");
    expect(response?.status()).toBe(200);
    await expect(verdict(page)).toHaveText("Verified");
    const proof = page.getByRole("region", { name: "Proof" });
    for (const value of [
      verification.proof.recordHash,
      verification.proof.chain.contract,
      verification.proof.chain.txHash,
      String(verification.proof.chain.blockNumber),
      String(verification.proof.chain.chainId),
    ])
      await expect(proof.getByText(value ?? "missing", { exact: true }).first()).toBeVisible();
    await expect(page.getByText(verification.batch.farm.name, { exact: false }).first()).toBeVisible();
    await expect(page.getByRole("heading", { name: "Journey" })).toBeVisible();
    await page.screenshot({ path: testInfo.outputPath("verified.png"), fullPage: true });
  });

  test("a recalled batch shows the recall banner with its reason", async ({ page, signedIn }, testInfo) => {
    const reason = "Listeria found in a sample from this batch";
    const tokenId = await recalledBatch(await signedIn("farmer"), reason);
    await page.goto(`/verify/${tokenId}`);
    await expect(verdict(page)).toHaveText("Recalled");
    await expect(page.getByText(reason)).toBeVisible();
    await page.screenshot({ path: testInfo.outputPath("recalled.png"), fullPage: true });
  });

  test("an unknown batch answers 404 with a helpful page", async ({ page }) => {
    const response = await page.goto("/verify/999999999");
    expect(response?.status()).toBe(404);
    await expect(verdict(page)).toHaveText("We could not find this batch");
  });

  test("a malformed id answers 400 with a small HTML page, before Next", async ({ page, request }) => {
    const response = await page.goto("/verify/abc");
    expect(response?.status()).toBe(400);
    expect(response?.headers()["content-type"]).toMatch(/^text\/html/);
    await expect(verdict(page)).toHaveText("This is not a batch code");
    for (const bad of ["0", "-1", "1.5", "01", "12345678901234567890", "%20"]) {
      expect((await request.get(`/verify/${bad}`)).status(), bad).toBe(400);
    }
  });

  test("the verdict is cacheable at the edge, and only a found batch is", async ({ request }) => {
    const found = await request.get("/verify/1");
    expect(found.headers()["cache-control"]).toBe("public, s-maxage=300, stale-while-revalidate=600");
    const missing = await request.get("/verify/999999999");
    expect(missing.headers()["cache-control"]).not.toMatch(/public/);
  });

  test.describe("on a phone", () => {
    test.use({ viewport: { width: 390, height: 844 }, isMobile: true });

    test("shows the verdict and fits the screen", async ({ page, request }, testInfo) => {
      await verifiedOnChain(request, 1);
      await page.goto("/verify/1");
      await expect(verdict(page)).toHaveText("Verified");
      const banner = await verdict(page).boundingBox();
      expect(banner && banner.y + banner.height).toBeLessThan(844);
      for (const section of await page.locator("main > section").all()) {
        const box = await section.boundingBox();
        expect(box && box.x + box.width).toBeLessThanOrEqual(390);
      }
      await page.screenshot({ path: testInfo.outputPath("phone.png"), fullPage: true });
    });
  });

  test("a GS1 Digital Link shows the same verdict as the token link", async ({ page, request, signedIn }) => {
    const lot = `E2E-${randomBytes(3).toString("hex").toUpperCase()}`;
    const batch = await createBatch(await signedIn("farmer"), batchInput({ gtin: "4006381333931", lot }));
    expect(batch).toMatchObject({ gtin: "04006381333931", lot });
    await verifiedOnChain(request, batch.tokenId);
    for (const path of [`/01/04006381333931/10/${lot}`, `/01/4006381333931/10/${lot}`, `/verify/${batch.tokenId}`]) {
      const response = await page.goto(path);
      expect(response?.status(), path).toBe(200);
      // Both links carry the token's cache tags, so a change to the batch purges either from a CDN.
      expect(response?.headers()["cache-tag"], path).toMatch(new RegExp(`^token-${batch.tokenId},crop-`));
      await expect(verdict(page)).toHaveText("Verified");
      await expect(page.getByText(`batch #${batch.tokenId}`)).toBeVisible();
    }
    expect((await page.goto(`/01/04006381333931/10/NOPE-${lot}`))?.status()).toBe(404);
    expect((await page.goto(`/01/4006381333932/10/${lot}`))?.status()).toBe(404);
  });

  test("a label scanned from many networks at once is flagged as a possible copy", async ({
    page,
    request,
    signedIn,
  }) => {
    const { tokenId } = await createBatch(await signedIn("farmer"));
    await page.goto(`/verify/${tokenId}`);
    await expect(page.getByText("it may be a copy")).toHaveCount(0);
    for (let network = 1; network <= 12; network += 1) {
      const scan = await request.get(`/verify/${tokenId}`, {
        headers: { "x-forwarded-for": `198.51.${network}.7, 10.0.0.1` },
      });
      expect(scan.status()).toBe(200);
    }
    await expect
      .poll(async () => (await request.get(`/verify/${tokenId}`)).text(), { timeout: 10_000 })
      .toContain("it may be a copy");
    await page.goto(`/verify/${tokenId}`);
    await expect(
      page.getByRole("heading", { name: "This label has been scanned in many places at once — it may be a copy" }),
    ).toBeVisible();
  });
});
