import { readFileBytes } from "./file-outbox";
import type { PendingFile } from "./file-outbox-state";
import type { PendingBatch } from "./outbox-state";

export type FileWithBytes = { file: PendingFile; bytes: ArrayBuffer | undefined };

function toBase64(bytes: ArrayBuffer): string {
  const view = new Uint8Array(bytes);
  let binary = "";
  // In slices: spreading a whole photo into one call overflows the stack.
  for (let start = 0; start < view.length; start += 0x8000) {
    binary += String.fromCharCode(...view.subarray(start, start + 0x8000));
  }
  return btoa(binary);
}

/**
 * The farmer's copy of what is on the phone: every field the server would get, readable and re-importable; files
 * with their bytes in base64.
 */
export function outboxExport(batches: PendingBatch[], files: FileWithBytes[], now: Date): string {
  return `${JSON.stringify(
    {
      format: "greenledger-outbox/1",
      exportedAt: now.toISOString(),
      batches: batches.map((batch) => ({
        clientId: batch.clientId,
        idempotencyKey: batch.idempotencyKey,
        status: batch.status,
        savedAt: new Date(batch.savedAt).toISOString(),
        attempts: batch.attempts,
        lastError: batch.lastError,
        body: batch.body,
      })),
      files: files.map(({ file, bytes }) => ({
        id: file.id,
        kind: file.kind,
        type: file.type,
        size: file.size,
        fileName: file.fileName,
        certificate: file.certificate,
        tokenId: file.tokenId,
        batchClientId: file.batchClientId,
        status: file.status,
        savedAt: new Date(file.savedAt).toISOString(),
        attempts: file.attempts,
        lastError: file.lastError,
        base64: bytes ? toBase64(bytes) : null,
      })),
    },
    null,
    2,
  )}\n`;
}

function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  URL.revokeObjectURL(url);
}

export async function downloadOutbox(batches: PendingBatch[], files: PendingFile[]): Promise<void> {
  const now = new Date();
  const withBytes = await Promise.all(files.map(async (file) => ({ file, bytes: await readFileBytes(file.id) })));
  const json = outboxExport(batches, withBytes, now);
  download(
    new Blob([json], { type: "application/json" }),
    `greenledger-unsynced-${now.toISOString().slice(0, 10)}.json`,
  );
}

/** The photo or PDF itself, as the phone keeps it. */
export async function downloadFile(file: PendingFile): Promise<void> {
  const bytes = await readFileBytes(file.id);
  if (bytes) download(new Blob([bytes], { type: file.type }), file.fileName || file.id);
}
