import "server-only";
import { dbRead } from "@/lib/db/client";

export async function getHomeStats(): Promise<{ batches: number; farms: number; events: number }> {
  const [batches, farms, events] = await Promise.all([
    dbRead.cropBatch.count(),
    dbRead.farm.count(),
    dbRead.batchEvent.count(),
  ]);
  return { batches, farms, events };
}
