import DataLoader from "dataloader";

/**
 * Loads every key asked for in one turn of the event loop with one call of `batch`. setImmediate runs after the
 * turn's I/O, so requests that arrived together share one round trip. No memo: caching is the tiered cache's job.
 */
export function perTurnLoader<K, V>(
  batch: (keys: readonly K[]) => Promise<readonly V[]>,
  maxBatchSize: number,
): DataLoader<K, V> {
  return new DataLoader(batch, { cache: false, batchScheduleFn: (run) => setImmediate(run), maxBatchSize });
}
