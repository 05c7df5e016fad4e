import { expect, test } from "../support/fixtures";

test("GET /api/health reports the embedded database and memory cache as up", async ({ request }) => {
  const response = await request.get("/api/health");
  expect(response.status()).toBe(200);
  expect(response.headers()["cache-control"]).toBe("no-store");
  expect(await response.json()).toEqual({
    status: "ok",
    database: { status: "up", engine: "embedded-pglite", latencyMs: expect.any(Number) },
    cache: { status: "up", kind: "memory" },
    chain: { status: "not_configured" },
  });
});
