import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as getAttachment } from "@/app/api/attachments/[id]/route";
import { POST as declare, GET as listAttachments } from "@/app/api/crop-batches/[tokenId]/attachments/route";
import { POST as createBatch } from "@/app/api/crop-batches/route";
import { EICAR, EICAR_SIGNATURE } from "@/deploy/local/clamd";
import type { AttachmentDto } from "@/lib/attachments/attachment-dto";
import { expireUploads, sweepFinishedUploads } from "@/lib/attachments/expire-uploads";
import { type AttachmentProcessing, startAttachmentProcessing } from "@/lib/attachments/process-attachments";
import { uploadStore } from "@/lib/attachments/upload-store";
import { onBatchChanged } from "@/lib/batches/on-batch-changed";
import { searchSchema } from "@/lib/batches/schema";
import { searchBatches } from "@/lib/batches/search-batches";
import { db } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";
import { createGateway } from "@/lib/http/gateway";
import { getVerification } from "@/lib/verify/get-verification";
import { call, farmOf, newBatch, type TestUser, userWithRole } from "@/tests/support/api";
import {
  brokenPdf,
  CERTIFICATE,
  certificatePdf,
  HTML_TAIL,
  pngBomb,
  polyglotJpeg,
  sidewaysPhotoWithGps,
} from "@/tests/support/files";
import { storedFiles, tamperWith } from "@/tests/support/stored-files";
import { tusUpload } from "@/tests/support/tus";
import { until } from "@/tests/support/until";

describe("attachments: declared, uploaded with tus, processed off the request path", () => {
  let server: http.Server;
  let base: string;
  let processing: AttachmentProcessing;
  let farmer: TestUser;
  let tokenId: number;

  beforeAll(async () => {
    server = http.createServer(createGateway(async (_request, response) => void response.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    processing = startAttachmentProcessing();
    farmer = await userWithRole("farmer");
    tokenId = await batchOf(farmer);
  });

  afterAll(async () => {
    await processing.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  async function batchOf(owner: TestUser): Promise<number> {
    const farm = await farmOf(owner.address);
    const created = await call(createBatch, {}, { method: "POST", body: newBatch(farm.id), cookie: owner.cookie });
    expect(created.status).toBe(201);
    return created.body.tokenId as number;
  }

  const declareOn = (batch: number, user: TestUser, body: Record<string, unknown>) =>
    call(declare, { tokenId: String(batch) }, { method: "POST", body, cookie: user.cookie });

  const photo = (bytes: Buffer, type = "image/jpeg") => ({ id: randomUUID(), kind: "photo", type, size: bytes.length });
  const certificate = (bytes: Buffer) => ({
    id: randomUUID(),
    kind: "certificate",
    type: "application/pdf",
    size: bytes.length,
    fileName: "organic.pdf",
    certificate: CERTIFICATE,
  });

  async function settled(id: string, user = farmer): Promise<AttachmentDto> {
    let last: AttachmentDto | undefined;
    await until(async () => {
      last = (await call(getAttachment, { id }, { cookie: user.cookie })).body as AttachmentDto;
      return last.status === "ready" || last.status === "rejected";
    }, 20_000);
    return last as AttachmentDto;
  }

  async function upload(body: { id: string }, bytes: Buffer, user = farmer, batch = tokenId) {
    const declared = await declareOn(batch, user, body);
    expect(declared.status).toBe(201);
    return tusUpload(`${base}/api/uploads`, body.id, bytes, user.cookie);
  }

  /** Creates the upload with only the first half of its bytes, as a phone whose signal went; returns the offset. */
  async function sendHalf(id: string, bytes: Buffer): Promise<number> {
    const created = await fetch(`${base}/api/uploads`, {
      method: "POST",
      headers: {
        "tus-resumable": "1.0.0",
        "upload-length": String(bytes.length),
        "upload-metadata": `attachmentId ${Buffer.from(id).toString("base64")}`,
        "content-type": "application/offset+octet-stream",
        cookie: farmer.cookie,
      },
      body: new Uint8Array(bytes.subarray(0, Math.floor(bytes.length / 2))),
    });
    expect(created.status).toBe(201);
    return Number(created.headers.get("upload-offset"));
  }

  it("a sideways JPEG with GPS EXIF is stored upright, without any metadata, at most 2000 px long", async () => {
    const bytes = await sidewaysPhotoWithGps();
    expect(await sharp(bytes).metadata()).toMatchObject({ orientation: 6, exif: expect.any(Buffer) });
    const body = photo(bytes);
    expect(await upload(body, bytes)).toEqual({ ok: true });
    const ready = await settled(body.id);
    expect(ready).toMatchObject({ status: "ready", mediaType: "image/jpeg", width: 800, height: 2000 });
    const stored = Buffer.from(await (await fetch(`${base}${ready.fileUrl}`)).arrayBuffer());
    const meta = await sharp(stored).metadata();
    expect({
      width: meta.width,
      height: meta.height,
      exif: meta.exif,
      xmp: meta.xmp,
      orientation: meta.orientation,
    }).toEqual({ width: 800, height: 2000, exif: undefined, xmp: undefined, orientation: undefined });
    const thumbnail = await fetch(`${base}${ready.thumbnailUrl}`);
    expect(thumbnail.headers.get("content-type")).toBe("image/webp");
    expect((await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata()).height).toBe(480);
  });

  it("declaring the same id twice at once, and again after it is ready: one record, one stored file", async () => {
    const bytes = await sidewaysPhotoWithGps(1000, 700);
    const body = photo(bytes);
    const [first, second] = await Promise.all([declareOn(tokenId, farmer, body), declareOn(tokenId, farmer, body)]);
    expect([first.status, second.status].sort()).toEqual([200, 201]);
    expect(first.body.uploadUrl).toBe(`/api/uploads/${body.id}`);
    expect(await tusUpload(`${base}/api/uploads`, body.id, bytes, farmer.cookie)).toEqual({ ok: true });
    const ready = await settled(body.id);
    const filesBefore = await storedFiles();
    const again = await declareOn(tokenId, farmer, body);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: body.id, status: "ready", uploadUrl: null, sha256: ready.sha256 });
    const reupload = await tusUpload(`${base}/api/uploads`, body.id, bytes, farmer.cookie);
    expect(reupload).toMatchObject({ ok: false, status: 409, body: { error: { code: "conflict" } } });
    expect(await db.attachment.count({ where: { id: body.id } })).toBe(1);
    expect(await storedFiles()).toEqual(filesBefore);
    const reused = await declareOn(tokenId, farmer, { ...body, size: body.size + 1 });
    expect(reused).toMatchObject({ status: 422, body: { error: { code: "client_id_reused" } } });
  });

  it("two farmers upload byte-identical certificates: two records, one stored file, each with its EPCIS event", async () => {
    const bytes = await certificatePdf(2, `Shared certificate ${randomUUID()}`);
    const other = await userWithRole("farmer");
    const otherBatch = await batchOf(other);
    const mine = certificate(bytes);
    const theirs = certificate(bytes);
    const before = await storedFiles();
    expect(await upload(mine, bytes)).toEqual({ ok: true });
    expect(await upload(theirs, bytes, other, otherBatch)).toEqual({ ok: true });
    const [a, b] = [await settled(mine.id), await settled(theirs.id, other)];
    expect(a).toMatchObject({ status: "ready", pages: 2, sha256: b.sha256, virusScan: "clean" });
    expect((await storedFiles()).length - before.length).toBe(1);
    const file = await fetch(`${base}${a.fileUrl}`);
    expect(file.headers.get("content-disposition")).toMatch(/^attachment/);
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
    const event = await db.batchEvent.findFirstOrThrow({ where: { tokenId: BigInt(tokenId), bizStep: "inspecting" } });
    expect(event.payload).toMatchObject({
      certificationInfo: `${env.PUBLIC_BASE_URL}${a.fileUrl}`,
      "gl:certificate": { ...CERTIFICATE, sha256: a.sha256, attachmentId: mine.id },
    });
    const listed = await call(listAttachments, { tokenId: String(tokenId) });
    expect(listed.body.map((item: AttachmentDto) => item.id)).toContain(mine.id);
  });

  it("HTML sent as image/jpeg is refused with a 415 when its bytes arrive, and the attachment says why", async () => {
    const bytes = Buffer.from(`<!doctype html>${HTML_TAIL}`);
    const body = photo(bytes);
    const outcome = await upload(body, bytes);
    expect(outcome).toMatchObject({ ok: false, status: 415, body: { error: { code: "unsupported_media_type" } } });
    const row = (await call(getAttachment, { id: body.id }, { cookie: farmer.cookie })).body;
    expect(row).toMatchObject({ status: "rejected", reason: "The file is not a JPEG, PNG or WebP image." });
  });

  it("a 16000 x 16000 PNG bomb is rejected fast, with the reason", async () => {
    const bytes = pngBomb();
    const body = photo(bytes, "image/png");
    const started = Date.now();
    const rssBefore = process.memoryUsage().rss;
    expect(await upload(body, bytes)).toEqual({ ok: true });
    const rejected = await settled(body.id);
    expect(rejected.reason).toBe("The image is 16000 x 16000 pixels; at most 48 megapixels are accepted.");
    expect(Date.now() - started).toBeLessThan(5_000);
    // Decoded, it would take 256 MB; refused from its header, the process barely grows.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it("a JPEG + HTML + ZIP polyglot is stored as a plain JPEG, without its tail", async () => {
    const bytes = await polyglotJpeg();
    const body = photo(bytes);
    expect(await upload(body, bytes)).toEqual({ ok: true });
    const ready = await settled(body.id);
    expect(ready.status).toBe("ready");
    const stored = Buffer.from(await (await fetch(`${base}${ready.fileUrl}`)).arrayBuffer());
    expect(stored.includes(Buffer.from("<html"))).toBe(false);
    expect(stored.includes(Buffer.from("PK"))).toBe(false);
  });

  it("a broken PDF and one of 51 pages are rejected with a reason", async () => {
    const broken = brokenPdf();
    const long = await certificatePdf(51);
    const brokenBody = certificate(broken);
    const longBody = certificate(long);
    expect(await upload(brokenBody, broken)).toEqual({ ok: true });
    expect(await upload(longBody, long)).toEqual({ ok: true });
    expect(await settled(brokenBody.id)).toMatchObject({
      status: "rejected",
      reason: expect.stringMatching(/^The PDF (is damaged|has no pages)/),
    });
    expect(await settled(longBody.id)).toMatchObject({
      status: "rejected",
      reason: "The PDF has 51 pages; at most 50 are accepted.",
    });
  });

  it("a certificate carrying a virus signature (the EICAR test string) is rejected by the antivirus hook", async () => {
    const bytes = Buffer.concat([await certificatePdf(1), Buffer.from(`\n% ${EICAR}\n`)]);
    const body = certificate(bytes);
    expect(await upload(body, bytes)).toEqual({ ok: true });
    expect(await settled(body.id)).toMatchObject({
      status: "rejected",
      reason: `The file carries a virus signature (${EICAR_SIGNATURE}.UNOFFICIAL).`,
    });
  });

  it("an upload left unfinished past UPLOAD_EXPIRY_DAYS is removed and its attachment marked expired", async () => {
    const bytes = await certificatePdf(4, `Forgotten ${randomUUID()}`);
    const body = certificate(bytes);
    expect((await declareOn(tokenId, farmer, body)).status).toBe(201);
    await sendHalf(body.id, bytes);
    const fresh = certificate(bytes);
    expect((await declareOn(tokenId, farmer, fresh)).status).toBe(201);
    const longAgo = new Date(Date.now() - (env.UPLOAD_EXPIRY_DAYS + 1) * 86_400_000);
    await db.attachment.update({ where: { id: body.id }, data: { createdAt: longAgo } });
    await expireUploads();
    expect((await call(getAttachment, { id: body.id }, { cookie: farmer.cookie })).body).toMatchObject({
      status: "expired",
      uploadUrl: null,
      reason: `Not uploaded within ${env.UPLOAD_EXPIRY_DAYS} days.`,
    });
    await expect(uploadStore.getUpload(body.id)).rejects.toBeDefined();
    const resumed = await fetch(`${base}/api/uploads/${body.id}`, {
      method: "HEAD",
      headers: { "tus-resumable": "1.0.0", cookie: farmer.cookie },
    });
    expect(resumed.status).toBe(409);
    expect((await call(getAttachment, { id: fresh.id }, { cookie: farmer.cookie })).body.status).toBe("declared");
  });

  it("a phone that lost the last answer is told at HEAD that all of it arrived, and its tus client finishes", async () => {
    const bytes = await certificatePdf(2, `Lost answer ${randomUUID()}`);
    const body = certificate(bytes);
    expect(await upload(body, bytes)).toEqual({ ok: true });
    await settled(body.id);
    const head = await fetch(`${base}/api/uploads/${body.id}`, {
      method: "HEAD",
      headers: { "tus-resumable": "1.0.0", cookie: farmer.cookie },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get("upload-offset")).toBe(String(bytes.length));
    expect(head.headers.get("upload-length")).toBe(String(bytes.length));
    const resumed = await tusUpload(`${base}/api/uploads`, body.id, bytes, farmer.cookie, {
      uploadUrl: `${base}/api/uploads/${body.id}`,
    });
    expect(resumed).toEqual({ ok: true });
    const stranger = await userWithRole("farmer");
    const foreign = await fetch(`${base}/api/uploads/${body.id}`, {
      method: "HEAD",
      headers: { "tus-resumable": "1.0.0", cookie: stranger.cookie },
    });
    expect(foreign.status).toBe(403);
  });

  it("bytes left in the upload store by a worker stopped after making a file ready are swept; unfinished ones stay", async () => {
    const bytes = await certificatePdf(3, `Left behind ${randomUUID()}`);
    const [done, unfinished] = [certificate(bytes), certificate(bytes)];
    for (const body of [done, unfinished]) {
      expect((await declareOn(tokenId, farmer, body)).status).toBe(201);
      await sendHalf(body.id, bytes);
    }
    // As the worker leaves a file it made ready when it stops before removing the upload.
    await db.attachment.update({ where: { id: done.id }, data: { status: "ready" } });
    expect(await sweepFinishedUploads()).toBeGreaterThanOrEqual(1);
    await expect(uploadStore.getUpload(done.id)).rejects.toBeDefined();
    expect((await uploadStore.getUpload(unfinished.id)).offset).toBe(Math.floor(bytes.length / 2));
  });

  it("caps are checked when the file is declared, before any byte is stored", async () => {
    const tooBig = await declareOn(tokenId, farmer, { ...photo(Buffer.alloc(0)), size: 12 * 1024 * 1024 + 1 });
    expect(tooBig).toMatchObject({ status: 413, body: { error: { code: "payload_too_large" } } });
    expect(tooBig.body.error.message).toBe("This photo is 12.0 MiB; at most 12.0 MiB is accepted.");
    const gif = await declareOn(tokenId, farmer, { ...photo(Buffer.alloc(10)), type: "image/gif" });
    expect(gif).toMatchObject({ status: 415, body: { error: { code: "unsupported_media_type" } } });
    const word = await declareOn(tokenId, farmer, { ...certificate(Buffer.alloc(10)), type: "application/msword" });
    expect(word.status).toBe(415);
    const stranger = await userWithRole("farmer");
    const foreign = await declareOn(tokenId, stranger, photo(Buffer.alloc(10)));
    expect(foreign).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
  });

  it("a farm over its quota gets a clear 413 quota_exceeded", async () => {
    const owner = await userWithRole("farmer");
    const batch = await batchOf(owner);
    const size = 10 * 1024 * 1024;
    const results = [];
    for (let index = 0; index < env.UPLOAD_QUOTA_MB / 10 + 1; index++) {
      results.push(await declareOn(batch, owner, { ...certificate(Buffer.alloc(0)), size }));
    }
    expect(results.slice(0, -1).every((result) => result.status === 201)).toBe(true);
    expect(results.at(-1)).toMatchObject({ status: 413, body: { error: { code: "quota_exceeded" } } });
    expect(results.at(-1)?.body.error.message).toMatch(/This farm has 0\.0 MiB of its 500\.0 MiB left for files/);
  });

  it("nobody but the farmer who declared it may touch its upload", async () => {
    const bytes = await certificatePdf();
    const body = certificate(bytes);
    expect((await declareOn(tokenId, farmer, body)).status).toBe(201);
    const stranger = await userWithRole("farmer");
    expect(await tusUpload(`${base}/api/uploads`, body.id, bytes, stranger.cookie)).toMatchObject({
      ok: false,
      status: 403,
      body: { error: { code: "forbidden" } },
    });
    expect(await tusUpload(`${base}/api/uploads`, body.id, bytes, "")).toMatchObject({ ok: false, status: 401 });
    const head = await fetch(`${base}/api/uploads/${body.id}`, {
      method: "HEAD",
      headers: { "tus-resumable": "1.0.0", cookie: stranger.cookie },
    });
    expect(head.status).toBe(403);
    expect((await call(getAttachment, { id: body.id }, { cookie: stranger.cookie })).status).toBe(404);
  });

  it("an upload sent in part resumes from the server's offset and ends with the same bytes", async () => {
    const bytes = await certificatePdf(40, `Resumed ${randomUUID()}`);
    const body = certificate(bytes);
    expect((await declareOn(tokenId, farmer, body)).status).toBe(201);
    expect(await sendHalf(body.id, bytes)).toBe(Math.floor(bytes.length / 2));
    const head = await fetch(`${base}/api/uploads/${body.id}`, {
      method: "HEAD",
      headers: { "tus-resumable": "1.0.0", cookie: farmer.cookie },
    });
    const offset = Number(head.headers.get("upload-offset"));
    expect(offset).toBeGreaterThan(0);
    const patch = await fetch(`${base}/api/uploads/${body.id}`, {
      method: "PATCH",
      headers: {
        "tus-resumable": "1.0.0",
        "upload-offset": String(offset),
        "content-type": "application/offset+octet-stream",
        cookie: farmer.cookie,
      },
      body: new Uint8Array(bytes.subarray(offset)),
    });
    expect(patch.status).toBe(204);
    const ready = await settled(body.id);
    const stored = Buffer.from(await (await fetch(`${base}${ready.fileUrl}`)).arrayBuffer());
    expect(stored.equals(bytes)).toBe(true);
  });

  it("the verification lists certificates, hashes checked against the stored bytes, and photos; search filters on them", async () => {
    const owner = await userWithRole("farmer");
    const batch = await batchOf(owner);
    const pdf = await certificatePdf(1, `Verified ${randomUUID()}`);
    const expiredPdf = await certificatePdf(1, `Expired ${randomUUID()}`);
    const picture = await sidewaysPhotoWithGps(900, 600);
    const current = certificate(pdf);
    const old = {
      ...certificate(expiredPdf),
      certificate: { ...CERTIFICATE, validFrom: "2020-01-01", validUntil: "2021-12-31" },
    };
    const snapshot = photo(picture);
    for (const [body, bytes] of [
      [current, pdf],
      [old, expiredPdf],
      [snapshot, picture],
    ] as const) {
      expect(await upload(body, bytes, owner, batch)).toEqual({ ok: true });
      expect((await settled(body.id, owner)).status).toBe("ready");
    }
    const verification = await getVerification(batch);
    // Each certificate's event hashes to what was recorded, and its hash is queued for the chain (CropBatch.anchor);
    // the relayer and indexer that put it there run in the processes and e2e suites.
    expect(verification.certificates).toEqual([
      expect.objectContaining({ ...CERTIFICATE, hashMatches: true, eventIntact: true, anchor: null }),
      expect.objectContaining({ validUntil: "2021-12-31", hashMatches: true, eventIntact: true, anchor: null }),
    ]);
    const certifyEvents = await db.batchEvent.findMany({
      where: { tokenId: BigInt(batch), bizStep: "inspecting" },
      select: { eventHash: true },
    });
    const anchors = await db.chainJob.findMany({ where: { tokenId: BigInt(batch), kind: "anchor" } });
    expect(anchors.map((job) => (job.args as { eventHash: string }).eventHash).sort()).toEqual(
      certifyEvents.map((event) => event.eventHash).sort(),
    );
    expect(verification.certificates[0]?.storedHash).toBe(verification.certificates[0]?.recordedHash);
    expect(verification.timeline.map((entry) => entry.certificateIssuer ?? entry.bizStep)).toEqual([
      "commissioning",
      CERTIFICATE.issuer,
      CERTIFICATE.issuer,
    ]);
    expect(verification.photos).toEqual([expect.objectContaining({ width: 600, height: 900 })]);

    const search = async (farmId: number, validCertificate?: true) =>
      (await searchBatches(searchSchema.parse({ farmId, validCertificate, states: [0, 1, 2, 3, 4, 5] }))).results;
    const farmId = (await db.cropBatch.findUniqueOrThrow({ where: { tokenId: BigInt(batch) } })).originFarm;
    const second = await call(createBatch, {}, { method: "POST", body: newBatch(farmId), cookie: owner.cookie });
    const expiredOnly = second.body.tokenId as number;
    const stale = { ...old, id: randomUUID() };
    expect(await upload(stale, expiredPdf, owner, expiredOnly)).toEqual({ ok: true });
    expect((await settled(stale.id, owner)).status).toBe("ready");
    const all = await search(farmId);
    const listed = all.find((row) => row.tokenId === batch);
    expect(listed).toMatchObject({ validCertificate: true, thumbnailUrl: expect.stringMatching(/\.webp$/) });
    // A row shows a 48 px image: it gets a 96 px square icon, not the photo page's 480 px thumbnail.
    expect(listed?.thumbnailUrl).not.toBe(verification.photos[0]?.thumbnailUrl);
    const icon = Buffer.from(await (await fetch(`${base}${listed?.thumbnailUrl}`)).arrayBuffer());
    expect(await sharp(icon).metadata()).toMatchObject({ format: "webp", width: 96, height: 96 });
    expect(all.find((row) => row.tokenId === expiredOnly)).toMatchObject({
      validCertificate: false,
      thumbnailUrl: null,
    });
    expect((await search(farmId, true)).map((row) => row.tokenId)).toEqual([batch]);

    const sha256 = verification.certificates[0]?.recordedHash as string;
    await tamperWith(sha256, Buffer.from("%PDF-1.7 a different certificate"));
    await onBatchChanged(batch);
    const tampered = await getVerification(batch);
    expect(tampered.certificates[0]).toMatchObject({ recordedHash: sha256, hashMatches: false, eventIntact: true });
    // Whoever also rewrites the hash the event recorded (past the append-only trigger, as a superuser could) breaks
    // the event's own hash, which is what the chain holds.
    const forged = tampered.certificates[0]?.storedHash as string;
    await db.$transaction([
      db.$executeRaw`SET LOCAL session_replication_role = replica`,
      db.$executeRaw`
        UPDATE batch_events SET payload = jsonb_set(payload, '{gl:certificate,sha256}', to_jsonb(${forged}::text))
         WHERE event_id = (SELECT event_id FROM attachments WHERE id = ${current.id}::uuid)`,
    ]);
    await onBatchChanged(batch);
    expect((await getVerification(batch)).certificates[0]).toMatchObject({
      recordedHash: forged,
      hashMatches: true,
      eventIntact: false,
    });
  });
});
