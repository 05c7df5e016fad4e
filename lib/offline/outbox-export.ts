import type { PendingBatch } from "./outbox-state";

/** The farmer's copy of what is on the phone: every field the server would get, readable and re-importable. */
export function outboxExport(batches: PendingBatch[], now: Date): string {
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
    },
    null,
    2,
  )}\n`;
}

export function downloadOutbox(batches: PendingBatch[]): void {
  const now = new Date();
  const url = URL.createObjectURL(new Blob([outboxExport(batches, now)], { type: "application/json" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = `greenledger-unsynced-${now.toISOString().slice(0, 10)}.json`;
  link.click();
  URL.revokeObjectURL(url);
}
