import { gtinSchema, lotSchema } from "@/lib/batches/schema";
import { cached } from "@/lib/cache/tiered-cache";
import { dbRead } from "@/lib/db/client";

/**
 * The token of the batch a GS1 Digital Link (/01/{gtin}/10/{lot}) names, or null for an unknown or invalid key. A
 * batch's GS1 key never changes once stored, so a found token is cached without tags; an unknown key is not cached.
 */
export async function findTokenByGs1(rawGtin: string, rawLot: string): Promise<number | null> {
  const gtin = gtinSchema.safeParse(rawGtin);
  const lot = lotSchema.safeParse(rawLot);
  if (!gtin.success || !lot.success) return null;
  return cached(`gs1:${gtin.data}:${lot.data}`, async () => {
    const batch = await dbRead.cropBatch.findFirst({
      where: { gtin: gtin.data, lot: lot.data },
      select: { tokenId: true },
    });
    return batch ? Number(batch.tokenId) : null;
  });
}
