import { type DBSchema, type IDBPDatabase, openDB } from "idb";
import type { PhoneFix } from "@/lib/tracking/keep-fix";

/** The transporter's fixes on the phone until the server has them (IndexedDB survives a closed tab and a reboot). */
export const POSITIONS_DB = "greenledger-positions";
const STORE = "fixes";

interface PositionsSchema extends DBSchema {
  fixes: { key: number; value: PhoneFix };
}

let database: Promise<IDBPDatabase<PositionsSchema>> | null = null;

function positions(): Promise<IDBPDatabase<PositionsSchema>> {
  database ??= openDB<PositionsSchema>(POSITIONS_DB, 1, {
    upgrade(db) {
      db.createObjectStore(STORE, { autoIncrement: true });
    },
  });
  return database;
}

export async function queueFix(fix: PhoneFix): Promise<void> {
  await (await positions()).add(STORE, fix);
}

/** The oldest `limit` fixes waiting, with their keys to drop once sent. */
export async function waitingFixes(limit: number): Promise<{ keys: number[]; fixes: PhoneFix[] }> {
  const keys: number[] = [];
  const fixes: PhoneFix[] = [];
  let cursor = await (await positions()).transaction(STORE).store.openCursor();
  while (cursor && fixes.length < limit) {
    keys.push(cursor.key);
    fixes.push(cursor.value);
    cursor = await cursor.continue();
  }
  return { keys, fixes };
}

export async function dropFixes(keys: number[]): Promise<void> {
  const transaction = (await positions()).transaction(STORE, "readwrite");
  await Promise.all([...keys.map((key) => transaction.store.delete(key)), transaction.done]);
}

export async function waitingCount(): Promise<number> {
  return (await positions()).count(STORE);
}
