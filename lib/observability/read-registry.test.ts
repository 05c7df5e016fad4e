import { describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/env.mjs";
import { metrics } from "@/lib/metrics/metrics";
import { readRegistry } from "@/lib/observability/read-registry";
import { type Sla, slaTable } from "@/lib/observability/sla";

const slas = slaTable(parseEnv({}).slaBounds);
const sla = (key: Sla["key"]) => slas.find((candidate) => candidate.key === key) as Sla;

describe("readRegistry", () => {
  it("sums the series each SLA selects into one cumulative histogram, and reads 5xx, requests and chain lag", async () => {
    const before = await readRegistry(slas, { chainLag: true });
    const observe = (route: string, method: string, status: string, seconds: number) =>
      metrics.httpDuration.observe({ route, method, status }, seconds);
    observe("/api/verify/:id", "GET", "200", 0.01);
    observe("/verify/:id", "GET", "200", 0.12);
    observe("/api/verify/:id", "GET", "304", 0.4);
    observe("/api/crop-batches/search", "POST", "200", 0.05);
    metrics.errors.inc({ kind: "http_5xx" });
    metrics.errors.inc({ kind: "redis" });
    metrics.chainLag.set(7);

    const after = await readRegistry([sla("verification"), sla("search")], { chainLag: true });
    const [verification, search] = after.slas;
    const at = (bound: number) => verification?.counts[verification.bounds.indexOf(bound)];
    expect(verification?.bounds.at(-1)).toBe(Number.POSITIVE_INFINITY);
    expect([at(0.01), at(0.15), at(0.3), at(0.5), verification?.counts.at(-1)]).toEqual([1, 2, 2, 3, 3]);
    expect(search?.counts.at(-1)).toBe(1);
    expect(after.httpRequests - before.httpRequests).toBe(4);
    expect(after.http5xx - before.http5xx).toBe(1);
    expect(after.chainLagBlocks).toBe(7);
    expect((await readRegistry(slas, { chainLag: false })).chainLagBlocks).toBeNull();
  });
});
