import { z } from "zod";
import { distanceM } from "@/lib/tracking/distance";

/** One position a transporter's phone took: where, how sure, and when by the phone's clock. */
export type Fix = { lat: number; lng: number; accuracy: number; time: Date };

export type RejectReason = "out_of_range" | "inaccurate" | "future" | "too_old" | "out_of_order" | "too_fast";

export type Rejection = { index: number; reason: RejectReason };

// A batch is what a phone that was offline sends at once: at one fix per 5 s, 100 fixes are 8 minutes.
export const MAX_FIXES = 100;
export const WORST_ACCURACY_M = 100;
export const FASTEST_KMH = 180;
// Phones' clocks drift; a fix a little ahead is a clock, one far ahead is not a position.
const FUTURE_SKEW_MS = 60_000;
// Fixes queued while offline arrive late, but a day-old position says nothing about where a truck is now.
const OLDEST_MS = 24 * 3_600_000;

export const positionsSchema = z.object({
  fixes: z
    .array(
      z.object({
        lat: z.number(),
        lng: z.number(),
        accuracy: z.number().nonnegative(),
        time: z.iso.datetime({ offset: true }),
      }),
    )
    .min(1)
    .max(MAX_FIXES),
});

export type PositionsInput = z.infer<typeof positionsSchema>;

function reasonFor(fix: Fix, previous: Fix | null, now: number): RejectReason | null {
  const time = fix.time.getTime();
  if (Math.abs(fix.lat) > 90 || Math.abs(fix.lng) > 180) return "out_of_range";
  if (fix.accuracy > WORST_ACCURACY_M) return "inaccurate";
  if (time > now + FUTURE_SKEW_MS) return "future";
  if (time < now - OLDEST_MS) return "too_old";
  if (!previous) return null;
  const seconds = (time - previous.time.getTime()) / 1000;
  if (seconds <= 0) return "out_of_order";
  // Both fixes may be off by their accuracy: only movement beyond it counts towards the speed.
  const metres = Math.max(0, distanceM(previous, fix) - fix.accuracy - previous.accuracy);
  return (metres / seconds) * 3.6 > FASTEST_KMH ? "too_fast" : null;
}

/**
 * Which fixes to believe, in the order they were taken, each against the last one believed (starting from
 * `previous`, the transporter's last accepted fix). The rest are rejected with a reason the app can show.
 */
export function screenFixes(
  input: PositionsInput["fixes"],
  previous: Fix | null,
  now: number,
): { accepted: Fix[]; rejected: Rejection[] } {
  const fixes = input
    .map((fix, index) => ({ index, fix: { ...fix, time: new Date(fix.time) } }))
    .sort((a, b) => a.fix.time.getTime() - b.fix.time.getTime());
  const accepted: Fix[] = [];
  const rejected: Rejection[] = [];
  let last = previous;
  for (const { index, fix } of fixes) {
    const reason = reasonFor(fix, last, now);
    if (reason) {
      rejected.push({ index, reason });
      continue;
    }
    accepted.push(fix);
    last = fix;
  }
  return { accepted, rejected: rejected.sort((a, b) => a.index - b.index) };
}
