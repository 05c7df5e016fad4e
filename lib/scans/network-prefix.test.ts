import { describe, expect, it } from "vitest";
import { networkPrefix } from "@/lib/scans/network-prefix";

describe("networkPrefix", () => {
  it.each([
    ["203.0.113.77", "203.0.113.0/24"],
    ["::ffff:203.0.113.77", "203.0.113.0/24"],
    ["2001:db8:abcd:12::1", "2001:db8:abcd::/48"],
    ["2001:0db8:0000::1", "2001:db8:0::/48"],
    ["::1", "0:0:0::/48"],
    ["not an address", null],
    ["", null],
    [null, null],
  ])("%j -> %j", (address, prefix) => {
    expect(networkPrefix(address)).toBe(prefix);
  });
});
