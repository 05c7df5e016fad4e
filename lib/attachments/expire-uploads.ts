import "server-only";
import { uploadStore } from "@/lib/attachments/upload-store";
import { db } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";

const DAY_MS = 24 * 60 * 60 * 1000;

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
