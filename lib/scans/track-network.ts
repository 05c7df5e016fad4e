/** More distinct networks than this within the window flags a label as a possible copy. */
export const COPY_NETWORK_LIMIT = 10;
export const COPY_WINDOW_MS = 10 * 60 * 1000;

/**
 * Notes a scan from `network` in `seen` (network -> last scan time) and forgets networks outside the window.
 * Returns how many distinct networks scanned within the window, this one included.
 */
export function trackNetwork(seen: Map<string, number>, network: string, now: number): number {
  for (const [known, at] of seen) if (now - at > COPY_WINDOW_MS) seen.delete(known);
  seen.delete(network);
  seen.set(network, now);
  // Past the limit the verdict cannot change within the window, so the map stays bounded.
  while (seen.size > COPY_NETWORK_LIMIT + 1) {
    const oldest = seen.keys().next().value;
    if (oldest === undefined) break;
    seen.delete(oldest);
  }
  return seen.size;
}
