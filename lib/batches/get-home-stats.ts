import "server-only";
import { SEARCH_TAG } from "@/lib/batches/on-batch-changed";
import { cached } from "@/lib/cache/tiered-cache";
import { dbRead } from "@/lib/db/client";

type HomeStats = { batches: number; farms: number; events: number };

// Three counts scan whole tables: at a million batches that is too slow to repeat on every visit to the home page.
export function getHomeStats(): Promise<HomeStats> {
  return cached("home-stats", loadHomeStats, { tags: [SEARCH_TAG], ttlSeconds: 60 });
}

async function loadHomeStats(): Promise<HomeStats> {
  const [batches, farms, events] = await Promise.all([
    dbRead.cropBatch.count(),
    dbRead.farm.count(),
    dbRead.batchEvent.count(),
  ]);
  return { batches, farms, events };
}
