import { describe, expect, it } from "vitest";
import { distanceM } from "@/lib/tracking/distance";
import { screenFixes } from "@/lib/tracking/fixes";

const NOW = Date.parse("2026-12-07T12:00:00Z");
const at = (secondsAgo: number) => new Date(NOW - secondsAgo * 1000).toISOString();
const fix = (lat: number, lng: number, secondsAgo: number, accuracy = 10) => ({
  lat,
  lng,
  accuracy,
  time: at(secondsAgo),
});

describe("screenFixes", () => {
  it("keeps a truck's fixes in the order they were taken, whatever order they arrive in", () => {
    const { accepted, rejected } = screenFixes([fix(52.0005, 4.3, 5), fix(52, 4.3, 10)], null, NOW);
    expect(rejected).toEqual([]);
    expect(accepted.map((one) => one.time.toISOString())).toEqual([at(10), at(5)]);
  });

  it("rejects each unbelievable fix with its reason and keeps the rest", () => {
    const { accepted, rejected } = screenFixes(
      [
        fix(52, 4.3, 60),
        fix(91, 4.3, 55), // no such latitude
        fix(52.001, 4.3, 50, 250), // accuracy worse than 100 m
        fix(52.002, 4.3, -600), // ten minutes ahead of the server
        fix(52, 4.3, 2 * 86_400), // two days old
        fix(52.3, 4.3, 40), // 33 km in 20 s: about 6,000 km/h
        fix(52.001, 4.3, 30),
      ],
      null,
      NOW,
    );
    expect(rejected).toEqual([
      { index: 1, reason: "out_of_range" },
      { index: 2, reason: "inaccurate" },
      { index: 3, reason: "future" },
      { index: 4, reason: "too_old" },
      { index: 5, reason: "too_fast" },
    ]);
    expect(accepted).toHaveLength(2);
  });

  it("checks the first fix against the transporter's last accepted one", () => {
    const previous = { lat: 52, lng: 4.3, accuracy: 10, time: new Date(NOW - 20_000) };
    // 2.5 km in 10 s is 900 km/h; a fix taken before the last one is out of order.
    const { rejected } = screenFixes([fix(52.0225, 4.3, 10), fix(52, 4.3, 30)], previous, NOW);
    expect(rejected).toEqual([
      { index: 0, reason: "too_fast" },
      { index: 1, reason: "out_of_order" },
    ]);
  });

  it("does not call a fix fast for movement within both fixes' accuracy", () => {
    // 80 m in 1 s would be 288 km/h, but both fixes are only good to 50 m.
    const { rejected } = screenFixes([fix(52, 4.3, 2, 50), fix(52.00072, 4.3, 1, 50)], null, NOW);
    expect(rejected).toEqual([]);
  });

  it("measures great-circle distances", () => {
    // Amsterdam to Rotterdam, about 57 km.
    expect(distanceM({ lat: 52.3676, lng: 4.9041 }, { lat: 51.9244, lng: 4.4777 }) / 1000).toBeCloseTo(57.2, 0);
  });
});
