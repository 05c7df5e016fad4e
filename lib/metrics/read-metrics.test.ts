import { beforeAll, describe, expect, it } from "vitest";

const TOKEN = "metrics-token-for-the-test-0001";
let readMetrics: typeof import("@/lib/metrics/read-metrics").readMetrics;

describe("readMetrics with METRICS_TOKEN set", () => {
  beforeAll(async () => {
    // lib/env.mjs reads the environment once, when first imported.
    process.env.METRICS_TOKEN = TOKEN;
    ({ readMetrics } = await import("@/lib/metrics/read-metrics"));
  });

  it("refuses a missing or wrong bearer token with 401 in the one error shape", async () => {
    for (const authorization of [null, "Bearer wrong", `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      await expect(readMetrics(authorization)).rejects.toMatchObject({ status: 401, code: "unauthorized" });
    }
  });

  it("answers Prometheus text to the right token", async () => {
    const { body, contentType } = await readMetrics(`Bearer ${TOKEN}`);
    expect(contentType).toContain("text/plain");
    expect(body).toContain("# TYPE gl_http_request_duration_seconds histogram");
  });
});
