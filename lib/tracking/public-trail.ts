import { dbRead } from "@/lib/db/client";
import { type LiveUpdate, trackingBus } from "@/lib/tracking/bus";
import { distanceM } from "@/lib/tracking/distance";

/** Where a batch in transit has been, as anyone may see it: places to about 10 km, none near its farm. */
export type PublicTrail = {
  /** The places passed, oldest first, each with the last time the truck was reported there. */
  places: { lat: number; lng: number; at: string }[];
  /** The last position the carrier shared, anywhere (its place may be hidden near the farm). */
  lastReportAt: string | null;
};

// A tenth of a degree, as the public read points (lib/verify/get-verification.ts): about 11 km north-south.
const round = (degrees: number) => Math.round(degrees * 10) / 10;
// Positions this close to the farm are left out, not rounded: a trail that starts in the farm's cell points at it.
export const FARM_PRIVACY_M = 15_000;
// The places of the last hours a consumer cares about, not every cell of a long trip.
const MAX_PLACES = 12;

/** The public trail of a journey's updates (oldest first), from the farm at `farm`. */
export function coarseTrail(updates: LiveUpdate[], farm: { lat: number; lng: number }): PublicTrail {
  const places: PublicTrail["places"] = [];
  let lastReportAt: string | null = null;
  for (const update of updates) {
    const fix = JSON.parse(update.data) as { lat: number; lng: number; time: string };
    lastReportAt = fix.time;
    if (distanceM(fix, farm) < FARM_PRIVACY_M) continue;
    const place = { lat: round(fix.lat), lng: round(fix.lng), at: fix.time };
    const previous = places.at(-1);
    if (previous?.lat === place.lat && previous.lng === place.lng) previous.at = place.at;
    else places.push(place);
  }
  return { places: places.slice(-MAX_PLACES), lastReportAt };
}

/** The public trail of a batch on its way, or null when it has none to show or the tracking bus is away. */
export async function publicTrail(tokenId: number): Promise<PublicTrail | null> {
  const [batch, updates] = await Promise.all([
    dbRead.cropBatch.findUnique({
      where: { tokenId },
      select: { farm: { select: { latitude: true, longitude: true } } },
    }),
    trackingBus()
      .journey(String(tokenId))
      .catch(() => null),
  ]);
  if (!batch || !updates) return null;
  return coarseTrail(updates, { lat: batch.farm.latitude, lng: batch.farm.longitude });
}
