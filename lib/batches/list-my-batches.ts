import "server-only";
import { z } from "zod";
import { badRequest } from "@/lib/api/errors";
import { type BatchDto, type FarmSummary, isoDate } from "@/lib/batches/batch-dto";
import { stateName } from "@/lib/batches/lifecycle";
import { db } from "@/lib/db/client";
import { Prisma } from "@/lib/generated/prisma/client";

export const myBatchesQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).max(200).optional(),
  })
  .strict();

export type MyBatchesQuery = z.infer<typeof myBatchesQuerySchema>;

/** What the farmer's list shows of a batch: the full batch's fields, less the detail. */
export type MyBatch = Pick<
  BatchDto,
  | "tokenId"
  | "clientId"
  | "cropType"
  | "variety"
  | "quantity"
  | "unit"
  | "harvestDate"
  | "stateName"
  | "chainStatus"
  | "createdAt"
> & { farm: Pick<FarmSummary, "id" | "name"> };

export type MyBatchesPage = { results: MyBatch[]; nextCursor: string | null };

const cursorSchema = z.tuple([z.iso.datetime(), z.number().int().positive().max(Number.MAX_SAFE_INTEGER)]);

export function encodeMyBatchesCursor(createdAt: string, tokenId: number): string {
  return Buffer.from(JSON.stringify([createdAt, tokenId])).toString("base64url");
}

function decodeCursor(cursor: string): [Date, number] {
  try {
    const [createdAt, tokenId] = cursorSchema.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    return [new Date(createdAt), tokenId];
  } catch {
    throw badRequest("The cursor is not one this API gave out.", [{ path: "query.cursor", message: "Invalid cursor" }]);
  }
}

type Row = {
  token_id: bigint;
  client_id: string;
  crop_type: string;
  variety: string | null;
  quantity: Prisma.Decimal;
  unit: string;
  harvest_date: Date;
  current_state: number;
  chain_status: string;
  created_at: Date;
  farm_id: number;
  farm_name: string;
};

/** Newest first, a keyset page at a time, walking crop_batches_owner_idx (owner_address, created_at DESC). */
export function myBatchesQuery(owner: string, query: MyBatchesQuery): Prisma.Sql {
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  return Prisma.sql`
    SELECT b.token_id, b.client_id, b.crop_type, b.variety, b.quantity, b.unit, b.harvest_date, b.current_state,
           b.chain_status::text AS chain_status, b.created_at, f.id AS farm_id, f.name AS farm_name
    FROM crop_batches b
    JOIN farms f ON f.id = b.origin_farm
    WHERE b.owner_address = ${owner}
    ${after ? Prisma.sql`AND b.created_at <= ${after[0]} AND (b.created_at < ${after[0]} OR b.token_id < ${after[1]})` : Prisma.empty}
    ORDER BY b.created_at DESC, b.token_id DESC
    LIMIT ${query.limit + 1}`;
}

export async function listMyBatches(owner: string, query: MyBatchesQuery): Promise<MyBatchesPage> {
  const rows = await db.$queryRaw<Row[]>(myBatchesQuery(owner, query));
  const results = rows.slice(0, query.limit).map(
    (row): MyBatch => ({
      tokenId: Number(row.token_id),
      clientId: row.client_id,
      cropType: row.crop_type,
      variety: row.variety,
      quantity: Number(row.quantity),
      unit: row.unit,
      harvestDate: isoDate(row.harvest_date),
      farm: { id: row.farm_id, name: row.farm_name },
      stateName: stateName(row.current_state),
      chainStatus: row.chain_status,
      createdAt: row.created_at.toISOString(),
    }),
  );
  const last = results.at(-1);
  return {
    results,
    nextCursor: rows.length > query.limit && last ? encodeMyBatchesCursor(last.createdAt, last.tokenId) : null,
  };
}
