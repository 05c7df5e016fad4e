import { expect, test } from "../support/fixtures";

test("GET /api/health reports the embedded database, memory cache and embedded chain as up", async ({ request }) => {
  const response = await request.get("/api/health");
  expect(response.status()).toBe(200);
  expect(response.headers()["cache-control"]).toBe("no-store");
  const health = await response.json();
  expect(health).toEqual({
    status: "ok",
    database: { status: "up", engine: "embedded-pglite", latencyMs: expect.any(Number) },
    cache: { status: "up", kind: "memory" },
    chain: {
      status: "up",
      chainId: 31337,
      embedded: true,
      head: expect.any(Number),
      indexed: expect.any(Number),
      lagBlocks: expect.any(Number),
      queuedJobs: expect.any(Number),
    },
  });
  // The indexer keeps up with the embedded chain's one-second blocks.
  expect(health.chain.lagBlocks).toBeLessThanOrEqual(3);
});
