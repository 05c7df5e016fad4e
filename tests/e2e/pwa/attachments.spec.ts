import { readFile } from "node:fs/promises";
import type { APIRequestContext, Page } from "@playwright/test";
import { PDFDocument, StandardFonts } from "pdf-lib";
import sharp from "sharp";
import type { AttachmentDto } from "@/lib/attachments/attachment-dto";
import { batchInput, createBatch } from "../support/api";
import { expect, test } from "../support/fixtures";
import { E2E_CROP } from "../support/server";
import {
  openBatchForm,
  openControlled,
  outbox,
  pendingFiles,
  recordFileRequests,
  screenshot,
  serverBatches,
  signInBrowser,
  uniqueTag,
  unsyncedCount,
} from "./support";

const ISSUER = "EcoCert Field Audits";
const CERTIFICATE = {
  Issuer: ISSUER,
  "Certificate number": "EC-2026-0042",
  Scope: "Organic production of tomatoes",
  "Valid from": "2026-01-01",
  "Valid until": "2026-12-31",
};

/** A camera-sized photo: the first full of noise (megabytes, as a real one), the others plain colours. */
function cameraPhoto(index: number): Promise<Buffer> {
  const background = { r: 40 * index, g: 140, b: 255 - 40 * index };
  const noise = index === 0 ? { noise: { type: "gaussian", mean: 128, sigma: 40 } as const } : {};
  return sharp({ create: { width: 3000, height: 2000, channels: 3, background, ...noise } })
    .jpeg({ quality: 92 })
    .toBuffer();
}

async function certificatePdf(): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  pdf.addPage([595, 842]).drawText(`${ISSUER}: organic certificate EC-2026-0042`, { x: 50, y: 780, size: 14, font });
  return Buffer.from(await pdf.save());
}

/** The farmer's own batch, on the ledger; its page opened once online, so the worker has it for offline use. */
async function openOwnBatch(page: Page, farmer: APIRequestContext, label: string): Promise<number> {
  const { tokenId } = await createBatch(farmer, batchInput({ variety: uniqueTag(label) }));
  await signInBrowser(page.context(), farmer);
  await openControlled(page, `/farmer/batches/${tokenId}`);
  // The first visit raced the worker's install: opened again, the page goes through the worker, which keeps it.
  await page.reload();
  await expect(page.getByText("No photos or certificates yet.")).toBeVisible();
  return tokenId;
}

async function addCertificate(page: Page, file: { name: string; mimeType: string; buffer: Buffer }): Promise<void> {
  await page.getByText("Add certificate", { exact: true }).click();
  await page.getByLabel("Certificate (PDF)").setInputFiles(file);
  for (const [label, value] of Object.entries(CERTIFICATE)) await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByRole("button", { name: "Save certificate" }).click();
}

async function readyAttachments(api: APIRequestContext, tokenId: number): Promise<AttachmentDto[]> {
  const response = await api.get(`/api/crop-batches/${tokenId}/attachments`);
  expect(response.status()).toBe(200);
  return (await response.json()) as AttachmentDto[];
}

test("5 photos and a certificate taken offline on a batch page survive a reload and reach the server once each", async ({
  context,
  page,
  signedIn,
}, testInfo) => {
  const farmer = await signedIn("farmer");
  const tokenId = await openOwnBatch(page, farmer, "files");
  const sent = recordFileRequests(context);
  const photos = await Promise.all([0, 1, 2, 3, 4].map(cameraPhoto));
  expect(photos[0]?.length).toBeGreaterThan(2_000_000);

  await context.setOffline(true);
  await page
    .getByLabel("Add photos")
    .setInputFiles(photos.map((buffer, index) => ({ name: `IMG_000${index}.jpg`, mimeType: "image/jpeg", buffer })));
  const waiting = page.getByTestId("waiting-files").locator("li");
  await expect(waiting).toHaveCount(5);
  await addCertificate(page, { name: "organic.pdf", mimeType: "application/pdf", buffer: await certificatePdf() });
  await expect(waiting).toHaveCount(6);
  await expect(unsyncedCount(page)).toHaveText("6 unsynced");

  const kept = await pendingFiles(page);
  expect(kept).toHaveLength(6);
  expect(kept.every((file) => file.tokenId === tokenId && file.status === "pending")).toBe(true);
  // Downscaled on the phone: the noisy camera photo is a fraction of its size.
  const noisy = kept.find((file) => file.kind === "photo" && file.size > 100_000);
  expect(noisy?.size).toBeLessThan((photos[0]?.length ?? 0) / 2);

  await page.reload();
  await expect(waiting).toHaveCount(6);
  await expect(page.getByTestId("waiting-files").locator('li[data-status="pending"]')).toHaveCount(6);
  await expect(unsyncedCount(page)).toHaveText("6 unsynced");
  await screenshot(page, testInfo, "batch-files-offline");
  expect(sent.total()).toBe(0);

  await context.setOffline(false);
  await expect(unsyncedCount(page)).toHaveText("All synced", { timeout: 60_000 });
  expect(await pendingFiles(page)).toEqual([]);
  await expect(page.getByTestId("waiting-files")).toHaveCount(0);

  await expect
    .poll(async () => (await readyAttachments(farmer, tokenId)).length, { timeout: 30_000, intervals: [250, 500] })
    .toBe(6);
  const ready = await readyAttachments(farmer, tokenId);
  expect(ready.map((attachment) => attachment.id).sort()).toEqual(kept.map((file) => file.id).sort());
  for (const attachment of ready) {
    expect(sent.declarations(attachment.id), `declarations of ${attachment.id}`).toBe(1);
    if (attachment.kind === "photo") expect(Math.max(attachment.width ?? 0, attachment.height ?? 0)).toBe(1600);
  }
  expect(ready.filter((attachment) => attachment.kind === "certificate")).toMatchObject([
    { certificate: { issuer: ISSUER, number: "EC-2026-0042" }, mediaType: "application/pdf" },
  ]);

  const uploaded = page.getByTestId("uploaded-files").locator('li[data-status="ready"]');
  await expect(uploaded).toHaveCount(6, { timeout: 30_000 });
  await expect(uploaded.filter({ hasText: ISSUER })).toHaveCount(1);
  await screenshot(page, testInfo, "batch-files-uploaded");

  await page.goto(`/verify/${tokenId}`);
  const certificates = page.getByRole("region", { name: "Certificates" });
  await expect(certificates).toContainText(ISSUER);
  await expect(certificates).toContainText("File hash matches the recorded hash");
  // The relayer anchors the certificate's event on the embedded chain; the indexer's commit refreshes the page's data.
  await expect(async () => {
    await page.reload();
    await expect(certificates).toContainText(/Its record is anchored on chain in block \d+/, { timeout: 500 });
  }).toPass({ timeout: 30_000 });
});

test("a certificate the server refuses (not a PDF inside) needs attention with the server's reason and is not sent again", async ({
  context,
  page,
  signedIn,
}, testInfo) => {
  const farmer = await signedIn("farmer");
  const tokenId = await openOwnBatch(page, farmer, "refused");
  const sent = recordFileRequests(context);

  const text = Buffer.from("Certificate: organic, honest. (A text file, renamed.)\n".repeat(20));
  await addCertificate(page, { name: "certificate.pdf", mimeType: "application/pdf", buffer: text });

  const item = page.getByTestId("waiting-files").locator('li[data-status="needs-attention"]');
  await expect(item).toHaveCount(1, { timeout: 30_000 });
  await expect(item.getByTestId("reason")).toHaveText("Not accepted: The file is not a PDF.");
  await expect(unsyncedCount(page)).toHaveText("1 unsynced · 1 to fix");
  const [refused] = await pendingFiles(page);
  expect(refused).toMatchObject({ status: "needs-attention", attempts: 1 });
  const id = refused?.id ?? "";
  expect([sent.declarations(id), sent.uploads(id)]).toEqual([1, 1]);
  const onServer = await farmer.get(`/api/attachments/${id}`);
  expect(await onServer.json()).toMatchObject({ status: "rejected", reason: "The file is not a PDF." });
  await screenshot(page, testInfo, "batch-file-refused");

  // Every way a replay starts again sends nothing for it.
  await page.reload();
  await expect(item).toHaveCount(1);
  await page.goto("/farmer");
  const listed = page.getByTestId("waiting-files").locator('li[data-status="needs-attention"]');
  await expect(listed).toContainText(`batch #${tokenId}`);
  await page.getByRole("button", { name: "Sync now" }).click();
  await context.setOffline(true);
  await context.setOffline(false);
  await expect(page.getByTestId("sync-state")).toHaveText(
    "1 not accepted by the server: fix, export or discard it below.",
  );
  expect([sent.declarations(id), sent.uploads(id)]).toEqual([1, 1]);
  expect(await pendingFiles(page)).toMatchObject([{ id, status: "needs-attention", attempts: 1 }]);
  expect(await readyAttachments(farmer, tokenId)).toEqual([]);

  // The farmer keeps a copy: the file itself, and in the export of everything unsynced, its bytes in base64.
  const copy = page.waitForEvent("download");
  await listed.getByRole("button", { name: "Save a copy" }).click();
  expect((await copy).suggestedFilename()).toBe("certificate.pdf");
  expect(await readFile((await (await copy).path()) ?? "")).toEqual(text);
  const exported = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export unsynced (JSON)" }).click();
  const { files } = JSON.parse(await readFile((await (await exported).path()) ?? "", "utf8"));
  expect(files).toMatchObject([
    { id, kind: "certificate", status: "needs-attention", tokenId, certificate: { issuer: ISSUER } },
  ]);
  expect(Buffer.from(files[0].base64, "base64")).toEqual(text);

  page.once("dialog", (dialog) => void dialog.accept());
  await listed.getByRole("button", { name: "Discard" }).click();
  await expect(unsyncedCount(page)).toHaveText("All synced");
  expect(await pendingFiles(page)).toEqual([]);
});

test("photos and a certificate picked with a batch saved offline wait for its token id, then reach it", async ({
  context,
  page,
  signedIn,
}, testInfo) => {
  const farmer = await signedIn("farmer");
  const tag = uniqueTag("with-batch");
  await openBatchForm(context, page, farmer);
  await context.setOffline(true);

  await page.getByLabel("Crop", { exact: true }).fill(E2E_CROP);
  await page.getByLabel("Variety (optional)").fill(`${tag} 0`);
  await page.getByLabel("Quantity", { exact: true }).fill("40");
  const photos = await Promise.all([1, 2].map(cameraPhoto));
  await page
    .getByLabel("Add photos")
    .setInputFiles(photos.map((buffer, index) => ({ name: `field-${index}.jpg`, mimeType: "image/jpeg", buffer })));
  await expect(page.getByTestId("picked-photos").locator("li")).toHaveCount(2);
  await page.getByText("Add certificate", { exact: true }).click();
  await page
    .getByLabel("Certificate (PDF)")
    .setInputFiles({ name: "organic.pdf", mimeType: "application/pdf", buffer: await certificatePdf() });
  for (const [label, value] of Object.entries(CERTIFICATE)) await page.getByLabel(label, { exact: true }).fill(value);
  await screenshot(page, testInfo, "new-batch-with-files");
  await page.getByRole("button", { name: "Save batch" }).click();
  await expect(page.getByTestId("saved-message")).toHaveText(
    `Saved ${E2E_CROP} with 3 files on this phone. It will be sent when you are back online.`,
  );
  await expect(page.getByTestId("picked-photos")).toHaveCount(0);
  await expect(unsyncedCount(page)).toHaveText("4 unsynced");

  const [batch] = await outbox(page);
  const kept = await pendingFiles(page);
  expect(kept).toHaveLength(3);
  expect(kept.every((file) => file.tokenId === null)).toBe(true);

  await page.goto("/farmer");
  await expect(page.getByTestId("outbox").locator(`[data-client-id="${batch?.clientId}"]`)).toContainText(
    "3 files with it",
  );
  const waiting = page.getByTestId("waiting-files").locator('li[data-status="waiting-for-batch"]');
  await expect(waiting).toHaveCount(3);
  await expect(waiting.first()).toContainText(`${E2E_CROP} (saved on this phone)`);
  await expect(page.getByTestId("sync-state")).toHaveText(
    "Offline. 1 batch and 3 files saved on this phone, sent when you are back online.",
  );
  await screenshot(page, testInfo, "dashboard-files-waiting-for-batch");

  await context.setOffline(false);
  await expect(unsyncedCount(page)).toHaveText("All synced", { timeout: 60_000 });
  const [row] = await serverBatches(farmer, tag);
  expect(row?.clientId).toBe(batch?.clientId);
  await expect
    .poll(async () => (await readyAttachments(farmer, row?.tokenId ?? 0)).map((attachment) => attachment.id).sort(), {
      timeout: 30_000,
      intervals: [250, 500],
    })
    .toEqual(kept.map((file) => file.id).sort());
});

test("an upload cut off after its first chunk resumes at the server's offset after the app restarts", async ({
  context,
  page,
  signedIn,
}) => {
  const farmer = await signedIn("farmer");
  const tokenId = await openOwnBatch(page, farmer, "resume");
  const tus: { method: string; offset: string | undefined }[] = [];
  context.on("request", (request) => {
    if (!new URL(request.url()).pathname.startsWith("/api/uploads")) return;
    tus.push({ method: request.method(), offset: request.headers()["upload-offset"] });
  });
  // The first chunk arrives (with the creation); then the signal goes, in the middle of the second.
  let cut = false;
  await context.route("**/api/uploads/*", async (route) => {
    if (route.request().method() !== "PATCH" || cut) return route.fallback();
    cut = true;
    await context.setOffline(true);
    return route.abort("internetdisconnected");
  });

  await page
    .getByLabel("Add photos")
    .setInputFiles({ name: "noisy.jpg", mimeType: "image/jpeg", buffer: await cameraPhoto(0) });
  await expect.poll(() => cut, { timeout: 30_000 }).toBe(true);
  const chunk = 256 * 1024;
  await expect.poll(async () => (await pendingFiles(page))[0]?.sentBytes).toBe(chunk);
  const [file] = await pendingFiles(page);
  expect(file?.size).toBeGreaterThan(2 * chunk);

  // The app is closed and opened again, still without signal: the file and how far it got are on the phone.
  await page.reload();
  const item = page.getByTestId("waiting-files").locator("li");
  await expect(item).toHaveAttribute("data-status", "pending");
  await expect(item.getByRole("progressbar")).toHaveAccessibleName(
    `noisy.jpg: ${Math.round((100 * chunk) / (file?.size ?? 1))}% sent`,
  );
  const before = tus.length;

  await context.setOffline(false);
  await expect(unsyncedCount(page)).toHaveText("All synced", { timeout: 60_000 });
  const resumed = tus.slice(before);
  // Asked the server where it stood, and sent only the rest: never created again, never from the start.
  expect(resumed[0]).toEqual({ method: "HEAD", offset: undefined });
  expect(resumed.filter((request) => request.method === "POST")).toEqual([]);
  expect(resumed.find((request) => request.method === "PATCH")?.offset).toBe(String(chunk));
  expect(tus.filter((request) => request.method === "POST")).toHaveLength(1);
  await expect
    .poll(async () => (await readyAttachments(farmer, tokenId)).map((attachment) => attachment.id), {
      timeout: 30_000,
    })
    .toEqual([file?.id]);
});
