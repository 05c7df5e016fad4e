import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flaggedInMemory, recordScan } from "@/lib/scans/record-scan";
import { COPY_NETWORK_LIMIT, COPY_WINDOW_MS, trackNetwork } from "@/lib/scans/track-network";

describe("the copied-label rule", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-11-24T12:00:00Z"));
  });
  afterEach(() => vi.useRealTimers());

  const networks = (count: number, from = 0) =>
    Array.from({ length: count }, (_, index) => `10.0.${from + index}.0/24`);

  it("counts each network once however often it scans", () => {
    const seen = new Map<string, number>();
    for (let scan = 0; scan < 50; scan += 1) trackNetwork(seen, "10.0.0.0/24", Date.now());
    expect(trackNetwork(seen, "10.0.1.0/24", Date.now())).toBe(2);
  });

  it("forgets networks that scanned longer ago than the window", () => {
    const seen = new Map<string, number>();
    for (const network of networks(COPY_NETWORK_LIMIT)) trackNetwork(seen, network, Date.now());
    vi.advanceTimersByTime(COPY_WINDOW_MS + 1);
    expect(trackNetwork(seen, "10.1.0.0/24", Date.now())).toBe(1);
  });

  it("stays bounded however many networks scan", () => {
    const seen = new Map<string, number>();
    for (const network of networks(500)) trackNetwork(seen, network, Date.now());
    expect(seen.size).toBe(COPY_NETWORK_LIMIT + 1);
  });

  it("flags a token scanned from more than the limit of networks within the window, not one spread over time", () => {
    const spread = 900_001;
    const copied = 900_002;
    for (const network of networks(COPY_NETWORK_LIMIT * 3)) {
      recordScan(spread, network);
      vi.advanceTimersByTime(COPY_WINDOW_MS / COPY_NETWORK_LIMIT + 1_000);
    }
    expect(flaggedInMemory(spread)).toBe(false);

    for (const network of networks(COPY_NETWORK_LIMIT)) recordScan(copied, network);
    expect(flaggedInMemory(copied)).toBe(false);
    vi.advanceTimersByTime(60_000);
    recordScan(copied, "192.168.7.0/24");
    expect(flaggedInMemory(copied)).toBe(true);
  });

  it("ignores scans without a known network", () => {
    for (let scan = 0; scan < 100; scan += 1) recordScan(900_003, null);
    expect(flaggedInMemory(900_003)).toBe(false);
  });
});
