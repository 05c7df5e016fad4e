import "server-only";
import { z } from "zod";
import { badRequest } from "@/lib/api/errors";
import { isoDate } from "@/lib/batches/batch-dto";
import { type StateName, stateName } from "@/lib/batches/lifecycle";
import { db } from "@/lib/db/client";

export const myBatchesQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).max(200).optional(),
  })
  .strict();

export type MyBatchesQuery = z.infer<typeof myBatchesQuerySchema>;

export type MyBatch = {
  tokenId: number;
  clientId: string;
  cropType: string;
  variety: string | null;
  quantity: number;
  unit: string;
  harvestDate: string;
  farm: { id: number; name: string };
  stateName: StateName;
  chainStatus: string;
  createdAt: string;
};

export type MyBatchesPage = { results: MyBatch[]; nextCursor: string | null };

const cursorSchema = z.tuple([z.iso.datetime(), z.number().int().positive().max(Number.MAX_SAFE_INTEGER)]);

function encodeCursor(createdAt: string, tokenId: number): string {
  return Buffer.from(JSON.stringify([createdAt, tokenId])).toString("base64url");
}

function decodeCursor(cursor: string): [Date, bigint] {
  try {
    const [createdAt, tokenId] = cursorSchema.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    return [new Date(createdAt), BigInt(tokenId)];
  } catch {
    throw badRequest("The cursor is not one this API gave out.", [{ path: "query.cursor", message: "Invalid cursor" }]);
  }
}

/** The owner's batches, newest first, a keyset page at a time (index crop_batches_owner_idx). */
export async function listMyBatches(owner: string, query: MyBatchesQuery): Promise<MyBatchesPage> {
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  const rows = await db.cropBatch.findMany({
    where: {
      ownerAddress: owner,
      ...(after ? { OR: [{ createdAt: { lt: after[0] } }, { createdAt: after[0], tokenId: { lt: after[1] } }] } : {}),
    },
    orderBy: [{ createdAt: "desc" }, { tokenId: "desc" }],
    take: query.limit + 1,
    include: { farm: { select: { id: true, name: true } } },
  });
  const results = rows.slice(0, query.limit).map(
    (row): MyBatch => ({
      tokenId: Number(row.tokenId),
      clientId: row.clientId,
      cropType: row.cropType,
      variety: row.variety,
      quantity: row.quantity.toNumber(),
      unit: row.unit,
      harvestDate: isoDate(row.harvestDate),
      farm: row.farm,
      stateName: stateName(row.currentState),
      chainStatus: row.chainStatus,
      createdAt: row.createdAt.toISOString(),
    }),
  );
  const last = results.at(-1);
  return { results, nextCursor: rows.length > query.limit && last ? encodeCursor(last.createdAt, last.tokenId) : null };
}
