import { type DBSchema, type IDBPDatabase, openDB } from "idb";
import type { PendingFile } from "./file-outbox-state";
import { announce } from "./outbox";

// A database of its own: the batches' keeps its version, which other tools open by number.
const FILES_DB = "greenledger-files";
const FILES_STORE = "pending-files";
const BYTES_STORE = "file-bytes";

interface FilesSchema extends DBSchema {
  "pending-files": { key: string; value: PendingFile };
  "file-bytes": { key: string; value: ArrayBuffer };
}

let database: Promise<IDBPDatabase<FilesSchema>> | null = null;

function filesDb(): Promise<IDBPDatabase<FilesSchema>> {
  database ??= openDB<FilesSchema>(FILES_DB, 1, {
    upgrade(db) {
      db.createObjectStore(FILES_STORE, { keyPath: "id" });
      db.createObjectStore(BYTES_STORE);
    },
  });
  return database;
}

export async function listPendingFiles(): Promise<PendingFile[]> {
  const files = await (await filesDb()).getAll(FILES_STORE);
  return files.sort((a, b) => a.savedAt - b.savedAt);
}

export async function readFileBytes(id: string): Promise<ArrayBuffer | undefined> {
  return (await filesDb()).get(BYTES_STORE, id);
}

/** Each file with its bytes, in one transaction: a file is never listed without them. */
export async function savePendingFiles(entries: { file: PendingFile; bytes: ArrayBuffer }[]): Promise<void> {
  if (entries.length === 0) return;
  const tx = (await filesDb()).transaction([FILES_STORE, BYTES_STORE], "readwrite");
  await Promise.all([
    ...entries.flatMap(({ file, bytes }) => [
      tx.objectStore(FILES_STORE).add(file),
      tx.objectStore(BYTES_STORE).put(bytes, file.id),
    ]),
    tx.done,
  ]);
  announce();
}

async function updateFiles(
  matches: (file: PendingFile) => boolean,
  change: (file: PendingFile) => PendingFile | null,
): Promise<void> {
  const tx = (await filesDb()).transaction([FILES_STORE, BYTES_STORE], "readwrite");
  const files = (await tx.objectStore(FILES_STORE).getAll()).filter(matches);
  await Promise.all([
    ...files.flatMap((file): Promise<unknown>[] => {
      const next = change(file);
      if (next) return [tx.objectStore(FILES_STORE).put(next)];
      return [tx.objectStore(FILES_STORE).delete(file.id), tx.objectStore(BYTES_STORE).delete(file.id)];
    }),
    tx.done,
  ]);
  if (files.length > 0) announce();
}

export function discardPendingFiles(ids: string[]): Promise<void> {
  const discarded = new Set(ids);
  return updateFiles(
    (file) => discarded.has(file.id),
    () => null,
  );
}

export function discardBatchFiles(batchClientId: string): Promise<void> {
  return updateFiles(
    (file) => file.batchClientId === batchClientId,
    () => null,
  );
}

/**
 * Batches that reached the ledger: their files may now be declared on their token ids. Called before the batches
 * leave the outbox, so a crash in between resends a batch (the server replays it), never strands its files.
 */
export function assignTokens(delivered: { clientId: string; tokenId: number }[]): Promise<void> {
  const tokens = new Map(delivered.map((batch) => [batch.clientId, batch.tokenId]));
  return updateFiles(
    (file) => file.tokenId === null && file.batchClientId !== null && tokens.has(file.batchClientId),
    (file) => ({ ...file, tokenId: tokens.get(file.batchClientId ?? "") ?? null }),
  );
}

/** A rejected batch resent as a new request has a new client id: its files go with it. */
export function moveBatchFiles(fromClientId: string, toClientId: string): Promise<void> {
  return updateFiles(
    (file) => file.batchClientId === fromClientId,
    (file) => ({ ...file, batchClientId: toClientId }),
  );
}

export function recordFileProgress(id: string, sentBytes: number): Promise<void> {
  return updateFiles(
    (file) => file.id === id,
    (file) => ({ ...file, sentBytes }),
  );
}

/**
 * Records a try's result, unless the farmer discarded the file meanwhile (a replay must not bring it back).
 * `next` null: the server has the bytes, and the file leaves the phone.
 */
export function recordFileAttempt(sent: PendingFile, next: PendingFile | null): Promise<void> {
  return updateFiles(
    (file) => file.id === sent.id,
    (current) => next && { ...next, sentBytes: current.sentBytes },
  );
}
