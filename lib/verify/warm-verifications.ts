import "server-only";
import { dbRead } from "@/lib/db/client";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics/metrics";
import { getVerification } from "@/lib/verify/get-verification";

const CONCURRENCY = 8;

/**
 * Loads the most-scanned tokens' verifications into the cache (from Redis when another instance put them there,
 * else from the database), so the first scans after a start are cache hits. Returns what it did and how long it took.
 */
export async function warmVerifications(limit: number): Promise<{ entries: number; seconds: number }> {
  const started = performance.now();
  const hottest = await dbRead.verificationScan.findMany({
    select: { tokenId: true },
    orderBy: { scanCount: "desc" },
    take: limit,
  });
  const queue = hottest.map((row) => Number(row.tokenId));
  let entries = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let tokenId = queue.shift(); tokenId !== undefined; tokenId = queue.shift()) {
        // A batch may have gone since it was scanned; warming skips it.
        if (
          await getVerification(tokenId).then(
            () => true,
            () => false,
          )
        )
          entries += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  metrics.warmup.set({ measure: "entries" }, entries);
  metrics.warmup.set({ measure: "seconds" }, seconds);
  log.info({ entries, ms: Math.round(seconds * 1000) }, "verification cache warmed with the most-scanned tokens");
  return { entries, seconds };
}
