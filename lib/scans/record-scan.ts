import { LRUCache } from "lru-cache";
import { db } from "@/lib/db/client";
import { log } from "@/lib/log";
import { COPY_NETWORK_LIMIT, COPY_WINDOW_MS, trackNetwork } from "@/lib/scans/track-network";

const FLUSH_INTERVAL_MS = 5_000;
const MAX_PENDING_TOKENS = 50_000;

type Pending = { count: number; lastScannedAt: number; flaggedAt: number | null; networks: number | null };

type Scans = {
  pending: Map<number, Pending>;
  /** Recent networks per token; tokens not scanned for a window fall out. */
  networks: LRUCache<number, Map<string, number>>;
  /** Tokens this process flagged, so the page warns before the next flush. */
  flagged: LRUCache<number, true>;
  timer: NodeJS.Timeout | null;
  flushing: Promise<void> | null;
};

// Next's server bundle and server.ts load their own copies of this module: one buffer per process.
const key = Symbol.for("greenledger.scans");
const holder = globalThis as typeof globalThis & { [key]?: Scans };
holder[key] ??= {
  pending: new Map(),
  networks: new LRUCache({ max: 100_000, ttl: COPY_WINDOW_MS }),
  flagged: new LRUCache({ max: 100_000 }),
  timer: null,
  flushing: null,
};
const scans = holder[key];

/** Counts a scan in memory (never waits on the database); a flusher writes the counts every few seconds. */
export function recordScan(tokenId: number, network: string | null, now = Date.now()): void {
  const entry = scans.pending.get(tokenId) ?? { count: 0, lastScannedAt: now, flaggedAt: null, networks: null };
  entry.count += 1;
  entry.lastScannedAt = now;
  if (network) {
    const seen = scans.networks.get(tokenId) ?? new Map<string, number>();
    scans.networks.set(tokenId, seen);
    const distinct = trackNetwork(seen, network, now);
    if (distinct > COPY_NETWORK_LIMIT && !scans.flagged.has(tokenId)) {
      scans.flagged.set(tokenId, true);
      entry.flaggedAt = now;
      entry.networks = distinct;
    }
  }
  scans.pending.set(tokenId, entry);
  if (scans.pending.size >= MAX_PENDING_TOKENS) void flushScans();
  if (!scans.timer) {
    scans.timer = setInterval(() => void flushScans(), FLUSH_INTERVAL_MS);
    scans.timer.unref();
  }
}

export function flaggedInMemory(tokenId: number): boolean {
  return scans.flagged.has(tokenId);
}

async function write(batch: Map<number, Pending>): Promise<void> {
  const rows = [...batch].map(([tokenId, entry]) => ({
    token_id: tokenId,
    scans: entry.count,
    last_scanned_at: new Date(entry.lastScannedAt).toISOString(),
    flagged_at: entry.flaggedAt === null ? null : new Date(entry.flaggedAt).toISOString(),
    networks: entry.networks,
  }));
  // One statement for every token; the join skips ids that are not batches instead of failing the flush.
  await db.$executeRaw`
    INSERT INTO verification_scans (token_id, scan_count, last_scanned_at, flagged_at, flagged_networks)
    SELECT s.token_id, s.scans, s.last_scanned_at, s.flagged_at, s.networks
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS s(token_id bigint, scans bigint, last_scanned_at timestamptz, flagged_at timestamptz, networks smallint)
    JOIN crop_batches b ON b.token_id = s.token_id
    ON CONFLICT (token_id) DO UPDATE SET
      scan_count = verification_scans.scan_count + EXCLUDED.scan_count,
      last_scanned_at = GREATEST(verification_scans.last_scanned_at, EXCLUDED.last_scanned_at),
      flagged_at = COALESCE(verification_scans.flagged_at, EXCLUDED.flagged_at),
      flagged_networks = GREATEST(verification_scans.flagged_networks, EXCLUDED.flagged_networks)`;
}

/** Writes the buffered counts in one multi-row upsert; a failed write puts them back for the next flush. */
export async function flushScans(): Promise<void> {
  while (scans.flushing) await scans.flushing;
  if (scans.pending.size === 0) return;
  const batch = scans.pending;
  scans.pending = new Map();
  scans.flushing = write(batch)
    .catch((error) => {
      log.warn({ err: error, tokens: batch.size }, "flushing verification scans failed");
      for (const [tokenId, entry] of batch) {
        const newer = scans.pending.get(tokenId);
        scans.pending.set(
          tokenId,
          newer
            ? {
                count: entry.count + newer.count,
                lastScannedAt: newer.lastScannedAt,
                flaggedAt: entry.flaggedAt ?? newer.flaggedAt,
                networks: entry.networks ?? newer.networks,
              }
            : entry,
        );
      }
    })
    .finally(() => {
      scans.flushing = null;
    });
  await scans.flushing;
}

/** Flushes what is left and stops the timer (shutdown and tests). */
export async function stopScans(): Promise<void> {
  if (scans.timer) clearInterval(scans.timer);
  scans.timer = null;
  await flushScans();
}
