import { gtinSchema, lotSchema } from "@/lib/batches/schema";
import { dbRead } from "@/lib/db/client";

/** The token of the batch a GS1 Digital Link (/01/{gtin}/10/{lot}) names, or null for an unknown or invalid key. */
export async function findTokenByGs1(rawGtin: string, rawLot: string): Promise<number | null> {
  const gtin = gtinSchema.safeParse(rawGtin);
  const lot = lotSchema.safeParse(rawLot);
  if (!gtin.success || !lot.success) return null;
  const batch = await dbRead.cropBatch.findFirst({
    where: { gtin: gtin.data, lot: lot.data },
    select: { tokenId: true },
  });
  return batch ? Number(batch.tokenId) : null;
}
