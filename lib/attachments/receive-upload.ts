import "server-only";
import { EventEmitter } from "node:events";
import { fileTypeFromBuffer } from "file-type";
import { ApiError } from "@/lib/api/errors";
import { ACCEPTED_TYPES } from "@/lib/attachments/limits";
import { readUpload, syncUpload, uploadStore } from "@/lib/attachments/upload-store";
import { readSession } from "@/lib/auth/session";
import { db } from "@/lib/db/client";
import type { Attachment } from "@/lib/generated/prisma/client";

// file-type reads at most this much of a file's start.
const SNIFF_BYTES = 4100;

/** Emits "received" when an upload in this process is complete, so a worker in the same process starts at once. */
export const uploads = new EventEmitter();

const DESCRIBED = { photo: "a JPEG, PNG or WebP image", certificate: "a PDF" } as const;

/**
 * Every tus request: the caller must be signed in and own the attachment. Creating its upload also needs the declared
 * length, and an attachment whose bytes are not yet received; it is then `uploading`.
 */
export async function authorizeUpload(
  cookie: string | null,
  method: string,
  id: string,
  uploadLength: string | null,
): Promise<void> {
  const session = await readSession(cookie);
  if (!session) throw new ApiError("unauthorized", "Sign in with your wallet first.");
  const row = await db.attachment.findUnique({
    where: { id },
    select: { ownerAddress: true, status: true, declaredSize: true, reason: true },
  });
  if (!row) throw new ApiError("not_found", "There is no such attachment: declare it on its batch first.");
  if (row.ownerAddress !== session.address) throw new ApiError("forbidden", "This upload belongs to someone else.");
  if (row.status === "rejected") throw new ApiError("conflict", `This file was refused: ${row.reason}`);
  if (row.status === "expired") throw new ApiError("conflict", "This upload expired; declare the file again.");
  if (row.status === "received" || row.status === "ready") {
    throw new ApiError("conflict", "This file has been received already.");
  }
  if (method !== "POST") return;
  if (Number(uploadLength) !== row.declaredSize) {
    throw new ApiError("bad_request", `Upload-Length must be the declared size, ${row.declaredSize} bytes.`, [
      { path: "(upload-length)", message: `Expected ${row.declaredSize}` },
    ]);
  }
  await db.attachment.updateMany({ where: { id, status: "declared" }, data: { status: "uploading" } });
}

/**
 * All of an upload's bytes are in: what they are is sniffed from the bytes (a file that is not what its kind accepts
 * is refused with a 415 and removed), they are made durable, and the attachment is `received`.
 */
export async function finishUpload(id: string): Promise<Attachment> {
  const row = await db.attachment.findUniqueOrThrow({ where: { id } });
  if (row.status !== "uploading") return row;
  const sniffed = await fileTypeFromBuffer(await readUpload(id, SNIFF_BYTES));
  const accepted: readonly string[] = ACCEPTED_TYPES[row.kind];
  if (!sniffed || !accepted.includes(sniffed.mime)) {
    const reason = `The file is not ${DESCRIBED[row.kind]}${sniffed ? ` (its bytes are ${sniffed.mime})` : ""}.`;
    await db.attachment.update({ where: { id }, data: { status: "rejected", reason } });
    await uploadStore.remove(id).catch(() => undefined);
    throw new ApiError("unsupported_media_type", reason);
  }
  await syncUpload(id);
  const received = await db.attachment.update({
    where: { id },
    data: { status: "received", receivedAt: new Date(), mediaType: sniffed.mime, nextAttemptAt: new Date() },
  });
  uploads.emit("received");
  return received;
}
