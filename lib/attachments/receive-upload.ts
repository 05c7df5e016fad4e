import "server-only";
import { EventEmitter } from "node:events";
import type http from "node:http";
import { fileTypeFromBuffer } from "file-type";
import { ApiError } from "@/lib/api/errors";
import { ACCEPTED_TYPES } from "@/lib/attachments/limits";
import { readUploadStart, uploadStore } from "@/lib/attachments/upload-store";
import { readSession } from "@/lib/auth/session";
import { pools } from "@/lib/db/client";
import type { AttachmentKind, AttachmentStatus } from "@/lib/generated/prisma/client";

// file-type reads at most this much of a file's start.
const SNIFF_BYTES = 4100;

/** Emits "received" when an upload in this process is complete, so a worker in the same process starts at once. */
export const uploads = new EventEmitter();

let receiving = 0;

/** Counts a request carrying an upload's bytes until its answer is sent: processing in this process yields to it. */
export function trackReceiving(response: http.ServerResponse): void {
  receiving += 1;
  response.once("close", () => {
    receiving -= 1;
  });
}

/** Whether this process is receiving uploads now. */
export const isReceiving = (): boolean => receiving > 0;

const DESCRIBED = { photo: "a JPEG, PNG or WebP image", certificate: "a PDF" } as const;

type UploadRow = {
  owner_address: string;
  status: AttachmentStatus;
  declared_size: number;
  reason: string | null;
  kind: AttachmentKind;
};

// The receiving path runs once per request of a thousand arriving together, so its queries go straight to the pool:
// one statement per hook when all is well, the row read only to explain a refusal.
async function readRow(id: string): Promise<UploadRow | undefined> {
  const { rows } = await pools.write.query<UploadRow>(
    "SELECT owner_address, status, declared_size, reason, kind FROM attachments WHERE id = $1",
    [id],
  );
  return rows[0];
}

function refusal(row: UploadRow | undefined, address: string): ApiError | undefined {
  if (!row) return new ApiError("not_found", "There is no such attachment: declare it on its batch first.");
  if (row.owner_address !== address) return new ApiError("forbidden", "This upload belongs to someone else.");
  if (row.status === "rejected") return new ApiError("conflict", `This file was refused: ${row.reason}`);
  if (row.status === "expired") return new ApiError("conflict", "This upload expired; declare the file again.");
  if (row.status === "received" || row.status === "ready") {
    return new ApiError("conflict", "This file has been received already.");
  }
  return undefined;
}

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
  if (method === "POST") {
    const started = await pools.write.query(
      `UPDATE attachments SET status = 'uploading', updated_at = now()
        WHERE id = $1 AND owner_address = $2 AND declared_size = $3 AND status IN ('declared', 'uploading')`,
      [id, session.address, Number(uploadLength) || -1],
    );
    if (started.rowCount === 1) return;
  }
  const row = await readRow(id);
  const refused = refusal(row, session.address);
  if (refused) throw refused;
  if (method === "POST" && row) {
    throw new ApiError("bad_request", `Upload-Length must be the declared size, ${row.declared_size} bytes.`, [
      { path: "(upload-length)", message: `Expected ${row.declared_size}` },
    ]);
  }
}

/** Where an upload stands for a tus HEAD: the declared size once its bytes are all in, else undefined (tus answers). */
export async function receivedSize(cookie: string | null, id: string): Promise<number | undefined> {
  const session = await readSession(cookie);
  const row = session ? await readRow(id) : undefined;
  if (!session || !row || row.owner_address !== session.address) return undefined;
  return row.status === "received" || row.status === "ready" ? row.declared_size : undefined;
}

function kindOf(mediaType: string): AttachmentKind | undefined {
  return (Object.keys(ACCEPTED_TYPES) as AttachmentKind[]).find((kind) =>
    (ACCEPTED_TYPES[kind] as readonly string[]).includes(mediaType),
  );
}

/**
 * All of an upload's bytes are in: what they are is sniffed from the bytes (a file that is not what its kind accepts
 * is refused with a 415 and removed), they are made durable, and the attachment is `received`.
 */
export async function finishUpload(id: string): Promise<void> {
  const sniffed = await fileTypeFromBuffer(await readUploadStart(id, SNIFF_BYTES));
  const kind = sniffed && kindOf(sniffed.mime);
  if (kind) {
    const received = await pools.write.query(
      `UPDATE attachments SET status = 'received', received_at = now(), media_type = $3, next_attempt_at = now(),
              updated_at = now()
        WHERE id = $1 AND status = 'uploading' AND kind = $2`,
      [id, kind, sniffed.mime],
    );
    if (received.rowCount === 1) {
      uploads.emit("received");
      return;
    }
  }
  const row = await readRow(id);
  if (row?.status !== "uploading") return;
  const reason = `The file is not ${DESCRIBED[row.kind]}${sniffed ? ` (its bytes are ${sniffed.mime})` : ""}.`;
  await pools.write.query(
    "UPDATE attachments SET status = 'rejected', reason = $2, updated_at = now() WHERE id = $1 AND status = 'uploading'",
    [id, reason],
  );
  await uploadStore.remove(id).catch(() => undefined);
  throw new ApiError("unsupported_media_type", reason);
}
