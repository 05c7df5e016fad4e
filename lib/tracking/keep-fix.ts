import { distanceM } from "@/lib/tracking/distance";

/** A phone's fix as the transporter's app keeps it until the server has it. */
export type PhoneFix = { lat: number; lng: number; accuracy: number; time: string };

// About one fix per 5 s, or sooner after 25 m: enough to draw the route, little enough for a phone's battery and data.
export const FIX_EVERY_MS = 5_000;
export const FIX_BEYOND_M = 25;

/** Whether `next` is worth keeping after `previous` (the last fix kept). */
export function worthKeeping(previous: PhoneFix | null, next: PhoneFix): boolean {
  if (!previous) return true;
  return Date.parse(next.time) - Date.parse(previous.time) >= FIX_EVERY_MS || distanceM(previous, next) >= FIX_BEYOND_M;
}
