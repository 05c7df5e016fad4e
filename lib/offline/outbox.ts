import { type DBSchema, type IDBPDatabase, openDB } from "idb";
import type { PendingBatch } from "./outbox-state";

export const OUTBOX_DB = "greenledger-offline";
export const OUTBOX_STORE = "pending-batches";
export const SYNC_TAG = "crop-batch-sync";
/** Web Locks name: the page and the worker each take it, so only one replay runs at a time. */
export const SYNC_LOCK = "greenledger-crop-batch-sync";
const CHANGES_CHANNEL = "greenledger-outbox";

interface OutboxSchema extends DBSchema {
  "pending-batches": { key: string; value: PendingBatch };
}

let database: Promise<IDBPDatabase<OutboxSchema>> | null = null;

function outbox(): Promise<IDBPDatabase<OutboxSchema>> {
  database ??= openDB<OutboxSchema>(OUTBOX_DB, 1, {
    upgrade(db) {
      db.createObjectStore(OUTBOX_STORE, { keyPath: "clientId" });
    },
  });
  return database;
}

/** Tells every open page (and the worker) that the outbox changed. */
export function announce(): void {
  const channel = new BroadcastChannel(CHANGES_CHANNEL);
  channel.postMessage("changed");
  channel.close();
}

export function onOutboxChange(listener: () => void): () => void {
  const channel = new BroadcastChannel(CHANGES_CHANNEL);
  channel.onmessage = listener;
  return () => channel.close();
}

export async function listPendingBatches(): Promise<PendingBatch[]> {
  const batches = await (await outbox()).getAll(OUTBOX_STORE);
  return batches.sort((a, b) => a.savedAt - b.savedAt);
}

export async function countPendingBatches(): Promise<number> {
  return (await outbox()).count(OUTBOX_STORE);
}

export async function savePendingBatch(batch: PendingBatch): Promise<void> {
  await (await outbox()).add(OUTBOX_STORE, batch);
  announce();
}

export async function discardPendingBatch(clientId: string): Promise<void> {
  await (await outbox()).delete(OUTBOX_STORE, clientId);
  announce();
}

/** Swaps a fixed batch in for the rejected one in one transaction, so neither both nor neither survive. */
export async function replacePendingBatch(rejectedClientId: string, fixed: PendingBatch): Promise<void> {
  const tx = (await outbox()).transaction(OUTBOX_STORE, "readwrite");
  await Promise.all([tx.store.delete(rejectedClientId), tx.store.add(fixed), tx.done]);
  announce();
}

/**
 * Removes the batches the ledger already lists (by client id): their reply was lost, but the server has them.
 * Returns how many left the outbox.
 */
export async function resolveDelivered(clientIds: string[]): Promise<number> {
  const tx = (await outbox()).transaction(OUTBOX_STORE, "readwrite");
  const held = new Set(await tx.store.getAllKeys());
  const found = clientIds.filter((clientId) => held.has(clientId));
  await Promise.all([...found.map((clientId) => tx.store.delete(clientId)), tx.done]);
  if (found.length > 0) announce();
  return found.length;
}

/**
 * Records a send attempt's result, unless the farmer discarded or replaced the batch meanwhile
 * (a replay must not bring a discarded batch back). `next` null removes it.
 */
export async function recordAttempt(sent: PendingBatch, next: PendingBatch | null): Promise<void> {
  const tx = (await outbox()).transaction(OUTBOX_STORE, "readwrite");
  const current = await tx.store.get(sent.clientId);
  if (current && current.idempotencyKey === sent.idempotencyKey) {
    if (next) await tx.store.put(next);
    else await tx.store.delete(sent.clientId);
  }
  await tx.done;
  announce();
}
