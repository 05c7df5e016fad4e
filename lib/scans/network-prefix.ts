import { isIPv4, isIPv6 } from "node:net";

function expandIpv6(address: string): string[] {
  const [head = "", tail = ""] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = address.includes("::") && tail ? tail.split(":") : [];
  const missing = 8 - left.length - right.length;
  return [...left, ...Array(Math.max(missing, 0)).fill("0"), ...right];
}

/** The client's network: its IPv4 /24 or IPv6 /48, so scans from one household or office count once. */
export function networkPrefix(address: string | null | undefined): string | null {
  const trimmed = address?.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
  if (!trimmed) return null;
  if (isIPv4(trimmed)) return `${trimmed.split(".").slice(0, 3).join(".")}.0/24`;
  if (!isIPv6(trimmed)) return null;
  const groups = expandIpv6(trimmed.toLowerCase().split("%")[0] ?? "");
  return `${groups
    .slice(0, 3)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(":")}::/48`;
}
