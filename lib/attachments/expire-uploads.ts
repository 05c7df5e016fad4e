import "server-only";
import { listUploadIds, uploadStore } from "@/lib/attachments/upload-store";
import { db } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";

const DAY_MS = 24 * 60 * 60 * 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SWEEP_CHUNK = 1_000;

/** Unfinished uploads past UPLOAD_EXPIRY_DAYS: their bytes are removed and their attachments marked expired. */
export async function expireUploads(): Promise<number> {
  const before = new Date(Date.now() - env.UPLOAD_EXPIRY_DAYS * DAY_MS);
  const expired = await db.attachment.updateManyAndReturn({
    where: { status: { in: ["declared", "uploading"] }, createdAt: { lt: before } },
    data: { status: "expired", reason: `Not uploaded within ${env.UPLOAD_EXPIRY_DAYS} days.` },
    select: { id: true },
  });
  await Promise.all(expired.map((row) => uploadStore.remove(row.id).catch(() => undefined)));
  await uploadStore.deleteExpired().catch(() => 0);
  return expired.length;
}

/**
 * Bytes a worker left in the upload store when it stopped between making a file ready (or refusing it) and removing
 * them: any upload whose attachment no longer waits for bytes or processing.
 */
export async function sweepFinishedUploads(): Promise<number> {
  const ids = (await listUploadIds()).filter((id) => UUID.test(id));
  let removed = 0;
  for (let start = 0; start < ids.length; start += SWEEP_CHUNK) {
    const chunk = ids.slice(start, start + SWEEP_CHUNK);
    const waiting = await db.attachment.findMany({
      where: { id: { in: chunk }, status: { in: ["declared", "uploading", "received"] } },
      select: { id: true },
    });
    const kept = new Set(waiting.map((row) => row.id));
    const done = chunk.filter((id) => !kept.has(id));
    await Promise.all(done.map((id) => uploadStore.remove(id).catch(() => undefined)));
    removed += done.length;
  }
  return removed;
}
