import type { SearchSort } from "@/lib/batches/sorts";

/** A value of the sort's column as the row carried it: text for dates and exact decimals, else a number. */
export type SortKey = string | number;

/** The cursor after a row: opaque to clients, but free of server-only code so the benchmark can aim at any depth. */
export function encodeCursor(sort: SearchSort, key: SortKey, tokenId: number): string {
  return Buffer.from(JSON.stringify([sort, key, tokenId])).toString("base64url");
}
