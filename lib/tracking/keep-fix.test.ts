import { describe, expect, it } from "vitest";
import { worthKeeping } from "@/lib/tracking/keep-fix";

const fix = (lat: number, seconds: number) => ({
  lat,
  lng: 4.3,
  accuracy: 5,
  time: new Date(Date.UTC(2026, 11, 7, 12, 0, seconds)).toISOString(),
});

describe("worthKeeping", () => {
  it("keeps the first fix, then one every 5 s, or sooner once the truck moved 25 m", () => {
    expect(worthKeeping(null, fix(52, 0))).toBe(true);
    expect(worthKeeping(fix(52, 0), fix(52.0001, 2))).toBe(false); // 11 m in 2 s
    expect(worthKeeping(fix(52, 0), fix(52.0001, 5))).toBe(true);
    expect(worthKeeping(fix(52, 0), fix(52.0003, 2))).toBe(true); // 33 m
  });
});
