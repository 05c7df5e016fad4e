import { describe, expect, it } from "vitest";
import type { LiveUpdate } from "@/lib/tracking/bus";
import { coarseTrail } from "@/lib/tracking/public-trail";

const farm = { lat: 52.0123, lng: 4.3456 };
let offset = 0;
const update = (lat: number, lng: number, minute: number): LiveUpdate => ({
  offset: ++offset,
  at: 0,
  data: JSON.stringify({ lat, lng, accuracy: 5, time: `2026-12-07T10:${String(minute).padStart(2, "0")}:00.000Z` }),
});

describe("coarseTrail", () => {
  it("leaves out every position within 15 km of the farm, but still tells when the carrier last reported", () => {
    const trail = coarseTrail([update(52.0124, 4.3457, 0), update(52.05, 4.4, 1)], farm);
    expect(trail).toEqual({ places: [], lastReportAt: "2026-12-07T10:01:00.000Z" });
  });

  it("rounds the places to a tenth of a degree and keeps one entry per place, with the last time there", () => {
    const trail = coarseTrail(
      [update(52.0124, 4.3457, 0), update(52.21, 4.61, 5), update(52.23, 4.64, 6), update(52.37, 4.89, 20)],
      farm,
    );
    expect(trail.places).toEqual([
      { lat: 52.2, lng: 4.6, at: "2026-12-07T10:06:00.000Z" },
      { lat: 52.4, lng: 4.9, at: "2026-12-07T10:20:00.000Z" },
    ]);
    expect(JSON.stringify(trail)).not.toMatch(/52\.0124|4\.3457|52\.21|4\.61/);
  });

  it("keeps the last 12 places of a long trip", () => {
    const trail = coarseTrail(
      Array.from({ length: 30 }, (_, index) => update(53 + index / 5, 6, index)),
      farm,
    );
    expect(trail.places).toHaveLength(12);
    expect(trail.places.at(-1)?.lat).toBe(58.8);
  });
});
