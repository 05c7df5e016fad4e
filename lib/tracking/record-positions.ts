import { ApiError } from "@/lib/api/errors";
import { db } from "@/lib/db/client";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics/metrics";
import { trackingBus } from "@/lib/tracking/bus";
import { distanceM } from "@/lib/tracking/distance";
import { type Fix, type PositionsInput, type Rejection, screenFixes } from "@/lib/tracking/fixes";
import { carriedBy } from "@/lib/tracking/list-shipments";
import type { UserDto } from "@/lib/users/sign-in-user";

// The stored position is for "who is near": it moves at most every 30 s or 200 m, not with every fix.
const STORE_EVERY_MS = 30_000;
const STORE_BEYOND_M = 200;
const BUS_RETRY_AFTER_SECONDS = 2;

const stored = new Map<string, { at: number; fix: Fix }>();

export type PositionsResult = { accepted: number; rejected: Rejection[]; shipments: string[] };

async function storeLocation(address: string, fix: Fix): Promise<void> {
  const last = stored.get(address);
  if (last && fix.time.getTime() - last.at < STORE_EVERY_MS && distanceM(last.fix, fix) < STORE_BEYOND_M) return;
  stored.set(address, { at: fix.time.getTime(), fix });
  await db.transporter.upsert({
    where: { address },
    create: { address, name: `Transporter ${address.slice(0, 8)}`, latitude: fix.lat, longitude: fix.lng },
    update: { latitude: fix.lat, longitude: fix.lng },
  });
}

function busAway(error: unknown): ApiError {
  log.warn({ err: error }, "tracking bus unavailable");
  metrics.errors.inc({ kind: "redis" });
  return new ApiError(
    "service_unavailable",
    "Live positions cannot be shared right now. Keep them and send them again shortly.",
    undefined,
    { "retry-after": String(BUS_RETRY_AFTER_SECONDS) },
  );
}

/**
 * A transporter's fixes: the believable ones go, in order, to every batch the transporter carries in transit (its
 * watchers see them live); the others come back with a reason. The transporter's stored location follows at a
 * slower pace.
 */
export async function recordPositions(user: UserDto, input: PositionsInput): Promise<PositionsResult> {
  const shipments = await db.cropBatch.findMany({
    where: carriedBy(user.address),
    select: { tokenId: true },
    orderBy: { tokenId: "asc" },
  });
  if (!shipments.length) {
    throw new ApiError("conflict", "You carry no batch in transit: positions are shared only during a shipment.");
  }
  const bus = trackingBus();
  const tokenIds = shipments.map(({ tokenId }) => String(tokenId));
  let accepted: Fix[];
  let rejected: Rejection[];
  try {
    ({ accepted, rejected } = screenFixes(input.fixes, await bus.lastFix(user.address), Date.now()));
    for (const fix of accepted) await Promise.all(tokenIds.map((tokenId) => bus.publish(tokenId, fix)));
    const last = accepted.at(-1);
    if (last) await bus.setLastFix(user.address, last);
  } catch (error) {
    throw busAway(error);
  }
  for (const { reason } of rejected) metrics.positionsRejected.inc({ reason });
  const newest = accepted.at(-1);
  if (newest) await storeLocation(user.address, newest);
  return { accepted: accepted.length, rejected, shipments: tokenIds };
}
