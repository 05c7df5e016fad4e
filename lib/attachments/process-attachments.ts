import "server-only";
import { PDFDocument } from "pdf-lib";
import sharp from "sharp";
import { fileUrl } from "@/lib/attachments/attachment-dto";
import { contentStore } from "@/lib/attachments/content-store";
import { sweepFinishedUploads } from "@/lib/attachments/expire-uploads";
import {
  CLAIM_SECONDS,
  ICON_EDGE,
  MAX_IMAGE_PIXELS,
  MAX_PDF_PAGES,
  PHOTO_EDGE,
  THUMB_EDGE,
} from "@/lib/attachments/limits";
import { isReceiving, uploads } from "@/lib/attachments/receive-upload";
import { readUpload, uploadStore } from "@/lib/attachments/upload-store";
import { InfectedFileError, scanForViruses } from "@/lib/attachments/virus-scan";
import { onBatchChanged } from "@/lib/batches/on-batch-changed";
import { db } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";
import { buildEpcisEvent } from "@/lib/epcis/event";
import type { Attachment } from "@/lib/generated/prisma/client";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics/metrics";

const POLL_MS = 1_000;
const COUNT_MS = 15_000;
const MAX_ATTEMPTS = 5;

// Decoded images are not kept between files: memory stays bounded by the files in progress. One thread per image, so
// that ATTACHMENT_CONCURRENCY bounds the cores processing takes.
sharp.cache(false);
sharp.concurrency(1);

/** A file that can never be made ready, with the reason the farmer is shown. */
class Refused extends Error {}

type Processed = {
  sha256: string;
  mediaType: string;
  storedSize: number;
  thumbSha256?: string;
  iconSha256?: string;
  width?: number;
  height?: number;
  pages?: number;
};

// Upright, at most PHOTO_EDGE on its long edge, and nothing but pixels: sharp writes no EXIF, XMP or GPS unless asked,
// and a re-encode drops whatever trailed the image (an HTML or ZIP tail of a polyglot).
async function processPhoto(bytes: Buffer): Promise<Processed> {
  const meta = await sharp(bytes)
    .metadata()
    .catch(() => {
      throw new Refused("The image cannot be read.");
    });
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > MAX_IMAGE_PIXELS) {
    throw new Refused(
      `The image is ${meta.width} x ${meta.height} pixels; at most ${MAX_IMAGE_PIXELS / 1e6} megapixels are accepted.`,
    );
  }
  const full = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS })
    .rotate()
    .resize(PHOTO_EDGE, PHOTO_EDGE, { fit: "inside", withoutEnlargement: true })
    .flatten({ background: "#ffffff" })
    .jpeg({ quality: 82 })
    .toBuffer({ resolveWithObject: true })
    .catch((error: Error) => {
      throw new Refused(`The image cannot be read (${error.message}).`);
    });
  const thumb = await sharp(full.data)
    .resize(THUMB_EDGE, THUMB_EDGE, { fit: "inside", withoutEnlargement: true })
    .webp({ quality: 70 })
    .toBuffer();
  const icon = await sharp(thumb).resize(ICON_EDGE, ICON_EDGE, { fit: "cover" }).webp({ quality: 70 }).toBuffer();
  return {
    sha256: await contentStore.put(full.data),
    thumbSha256: await contentStore.put(thumb),
    iconSha256: await contentStore.put(icon),
    mediaType: "image/jpeg",
    storedSize: full.data.length,
    width: full.info.width,
    height: full.info.height,
  };
}

// The issuer's file is what is hashed and kept: it is only read, never rewritten.
async function processCertificate(bytes: Buffer): Promise<Processed> {
  const pages = await PDFDocument.load(bytes, { ignoreEncryption: true, updateMetadata: false })
    .then((pdf) => pdf.getPageCount())
    .catch(() => {
      throw new Refused("The PDF is damaged or not a PDF document.");
    });
  if (pages < 1) throw new Refused("The PDF has no pages.");
  if (pages > MAX_PDF_PAGES) throw new Refused(`The PDF has ${pages} pages; at most ${MAX_PDF_PAGES} are accepted.`);
  return { sha256: await contentStore.put(bytes), mediaType: "application/pdf", storedSize: bytes.length, pages };
}

async function markReady(row: Attachment, processed: Processed, virusScan: string): Promise<void> {
  const readyAt = new Date();
  await db.$transaction(async (tx) => {
    const changed = await tx.attachment.updateMany({
      where: { id: row.id, status: "received" },
      data: { status: "ready", readyAt, virusScan, reason: null, ...processed },
    });
    if (changed.count !== 1 || row.kind !== "certificate") return;
    const batch = await tx.cropBatch.findUniqueOrThrow({
      where: { tokenId: row.tokenId },
      select: { currentState: true },
    });
    const url = new URL(fileUrl(processed.sha256, processed.mediaType), env.PUBLIC_BASE_URL).href;
    const eventTime = row.receivedAt ?? readyAt;
    const event = buildEpcisEvent({
      kind: "certify",
      tokenId: row.tokenId,
      disposition: "conformant",
      eventTime,
      timeZoneOffset: "+00:00",
      actor: row.ownerAddress,
      extensions: {
        certificationInfo: url,
        "gl:certificate": {
          attachmentId: row.id,
          issuer: row.certIssuer,
          number: row.certNumber,
          scope: row.certScope,
          validFrom: row.validFrom?.toISOString().slice(0, 10),
          validUntil: row.validUntil?.toISOString().slice(0, 10),
          mediaType: processed.mediaType,
          size: processed.storedSize,
          sha256: processed.sha256,
        },
      },
    });
    await tx.batchEvent.create({
      data: {
        tokenId: row.tokenId,
        eventId: event.eventId,
        eventType: event.eventType,
        action: event.action,
        bizStep: event.bizStep,
        disposition: "conformant",
        eventTime,
        eventTimeZoneOffset: "+00:00",
        actorAddress: row.ownerAddress,
        fromState: batch.currentState,
        toState: batch.currentState,
        payload: event.document as object,
        eventHash: event.eventHash,
      },
    });
    await tx.attachment.update({ where: { id: row.id }, data: { eventId: event.eventId } });
    // The event's hash goes on chain (CropBatch.anchor), so the file's hash inside it is anchored with it.
    await tx.chainJob.create({ data: { tokenId: row.tokenId, kind: "anchor", args: { eventHash: event.eventHash } } });
  });
  await onBatchChanged(row.tokenId);
}

async function processOne(row: Attachment): Promise<void> {
  try {
    const bytes = await readUpload(row.id);
    if (bytes.length !== row.declaredSize) throw new Error(`upload holds ${bytes.length} of ${row.declaredSize} bytes`);
    const virusScan = await scanForViruses(bytes, env.CLAMD_URL);
    const processed = row.kind === "photo" ? await processPhoto(bytes) : await processCertificate(bytes);
    await markReady(row, processed, virusScan);
  } catch (error) {
    if (!(error instanceof Refused || error instanceof InfectedFileError) && row.attempts < MAX_ATTEMPTS) {
      log.warn({ err: error, attachment: row.id, attempt: row.attempts }, "attachment processing failed; will retry");
      await db.attachment.update({
        where: { id: row.id },
        data: { nextAttemptAt: new Date(Date.now() + 2 ** row.attempts * 1000) },
      });
      return;
    }
    const reason =
      error instanceof Error && !(error instanceof Refused || error instanceof InfectedFileError)
        ? "The file could not be processed."
        : (error as Error).message;
    await db.attachment.updateMany({ where: { id: row.id, status: "received" }, data: { status: "rejected", reason } });
  }
  await uploadStore.remove(row.id).catch(() => undefined);
}

/** Takes up to `count` received files no other worker holds, for CLAIM_SECONDS. */
async function claim(count: number): Promise<Attachment[]> {
  const ids = await db.$queryRaw<{ id: string }[]>`
    UPDATE attachments SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => ${CLAIM_SECONDS})
     WHERE id IN (SELECT id FROM attachments
                   WHERE status = 'received' AND next_attempt_at <= now()
                   ORDER BY next_attempt_at LIMIT ${count} FOR UPDATE SKIP LOCKED)
     RETURNING id`;
  if (ids.length === 0) return [];
  return db.attachment.findMany({ where: { id: { in: ids.map((row) => row.id) } } });
}

/**
 * Claims left by a worker that stopped (a kill -9, a crash) are taken back at start rather than after their minute.
 * A claim's next attempt lies further ahead than any retry's backoff (16 s at most), which is how it is told apart.
 * Should the claim be a live worker's after all, the file is processed twice and made ready once (markReady).
 */
async function takeBackClaims(): Promise<void> {
  const released = await db.$executeRaw`
    UPDATE attachments SET next_attempt_at = now()
     WHERE status = 'received' AND next_attempt_at > now() + make_interval(secs => ${CLAIM_SECONDS / 2})`;
  if (released > 0) log.info({ released }, "took back files a stopped worker had claimed");
}

/** Reported as gl_attachments_waiting and gl_attachment_oldest_waiting_seconds: what "uploads not ready" alerts read. */
async function countWaiting(): Promise<void> {
  const [row] = await db.$queryRaw<{ waiting: number; oldest: number | null }[]>`
    SELECT count(*)::int AS waiting, EXTRACT(EPOCH FROM now() - min(received_at))::float8 AS oldest
      FROM attachments WHERE status = 'received'`;
  metrics.attachmentsWaiting.set(row?.waiting ?? 0);
  metrics.attachmentOldestWaiting.set(row?.oldest ?? 0);
}

export type AttachmentProcessing = { stop(): Promise<void> };

/** The worker's job queue: received files are sniffed, scanned, re-encoded or checked, stored and made ready. */
export function startAttachmentProcessing(concurrency = env.ATTACHMENT_CONCURRENCY): AttachmentProcessing {
  if (!env.CLAMD_URL) log.warn("CLAMD_URL is not set: files are not scanned for viruses (marked virusScan: skipped)");
  const active = new Set<Promise<void>>();
  let claiming = false;
  let stopped = false;
  const pump = async () => {
    // Receiving is what a farmer waits for; processing has a minute. While uploads arrive here, one file at a time.
    const limit = isReceiving() ? 1 : concurrency;
    if (claiming || stopped || active.size >= limit) return;
    claiming = true;
    try {
      for (const row of await claim(limit - active.size)) {
        const job = processOne(row)
          .catch((error) => log.error({ err: error, attachment: row.id }, "attachment processing failed"))
          .finally(() => {
            active.delete(job);
            void pump();
          });
        active.add(job);
      }
    } catch (error) {
      log.warn({ err: error }, "claiming attachments failed");
    } finally {
      claiming = false;
    }
  };
  const wake = () => void pump();
  uploads.on("received", wake);
  const timer = setInterval(wake, POLL_MS);
  timer.unref();
  const counter = setInterval(
    () => void countWaiting().catch((error) => log.warn({ err: error }, "counting waiting attachments failed")),
    COUNT_MS,
  );
  counter.unref();
  void takeBackClaims()
    .catch((error) => log.warn({ err: error }, "taking back claimed files failed"))
    .finally(wake);
  // A worker stopped between making a file ready and removing its upload left the bytes behind: gone at the next start.
  void sweepFinishedUploads().catch((error) => log.warn({ err: error }, "sweeping finished uploads failed"));
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearInterval(counter);
      uploads.off("received", wake);
      await Promise.all(active);
    },
  };
}
