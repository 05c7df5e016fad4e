import { describe, expect, it } from "vitest";
import { SnapshotRing } from "@/lib/observability/snapshot-ring";

describe("SnapshotRing", () => {
  it("finds the newest snapshot at or before a time, and the oldest when every snapshot is newer", () => {
    const ring = new SnapshotRing<string>(10);
    expect(ring.atOrBefore(0)).toBeUndefined();
    for (const at of [100, 200, 300]) ring.push(at, `at ${at}`);
    expect(ring.atOrBefore(250)).toBe("at 200");
    expect(ring.atOrBefore(300)).toBe("at 300");
    expect(ring.atOrBefore(1_000)).toBe("at 300");
    expect(ring.atOrBefore(50)).toBe("at 100");
  });

  it("keeps the last `capacity` snapshots, wrapping around", () => {
    const ring = new SnapshotRing<number>(3);
    for (let at = 1; at <= 7; at += 1) ring.push(at * 10, at);
    expect([0, 50, 55, 60, 70, 80].map((time) => ring.atOrBefore(time))).toEqual([5, 5, 5, 6, 7, 7]);
  });

  it("drops a snapshot closer than the spacing to the last one kept", () => {
    const ring = new SnapshotRing<number>(100, 30);
    for (let at = 0; at <= 100; at += 10) ring.push(at, at);
    expect([0, 25, 35, 65, 95, 100].map((time) => ring.atOrBefore(time))).toEqual([0, 0, 30, 60, 90, 90]);
  });
});
