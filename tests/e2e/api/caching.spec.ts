import { expect, test } from "../support/fixtures";

// The date, and how the message is framed: the gateway sends its answers with their length, Next's route chunked.
const FRAMING = new Set(["date", "content-length", "transfer-encoding"]);
const withoutFraming = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !FRAMING.has(name)));

function withoutChainStatus(body: { results?: Record<string, unknown>[] }) {
  return { ...body, results: body.results?.map(({ chainStatus: _, ...rest }) => rest) };
}

async function fastPathResponses(request: import("@playwright/test").APIRequestContext): Promise<number> {
  const text = await (await request.get("/api/metrics")).text();
  return Number(text.match(/^gl_fast_path_responses_total (\d+)/m)?.[1] ?? 0);
}

test.describe("HTTP caching of verifications on the production server", () => {
  test("Next's route and the gateway's fast path answer a cached token identically", async ({ request }) => {
    // A query string always goes through Next, and fills the cache for the fast path.
    const viaNext = await request.get("/api/verify/3?via=next");
    expect(viaNext.status()).toBe(200);
    const before = await fastPathResponses(request);
    const viaGateway = await request.get("/api/verify/3");
    expect(await fastPathResponses(request)).toBe(before + 1);
    expect(viaGateway.status()).toBe(200);
    expect(withoutFraming(viaGateway.headers())).toEqual(withoutFraming(viaNext.headers()));
    expect(await viaGateway.text()).toBe(await viaNext.text());
  });

  test("the gateway answers search as its route does, with the same answer as Next, bad input included", async ({
    request,
  }) => {
    const directCount = async () => {
      const text = await (await request.get("/api/metrics")).text();
      return Number(
        text.match(/^gl_gateway_route_responses_total\{route="\/api\/crop-batches\/search"\} (\d+)/m)?.[1] ?? 0,
      );
    };
    for (const data of [{ cropType: "tomato", limit: 5 }, { limit: "many" }]) {
      const before = await directCount();
      const direct = await request.post("/api/crop-batches/search", { data });
      expect(await directCount()).toBe(before + 1);
      const viaNext = await request.post("/api/crop-batches/search?via=next", { data });
      expect(direct.status()).toBe(viaNext.status());
      // The chain sync may confirm a demo batch between the two calls: compare without what it writes.
      expect(withoutFraming(direct.headers())).toEqual(withoutFraming(viaNext.headers()));
      expect(withoutChainStatus(await direct.json())).toEqual(withoutChainStatus(await viaNext.json()));
    }
  });

  test("a strong ETag, 304 on If-None-Match, and CDN cache headers with tags per token and crop type", async ({
    request,
  }) => {
    const first = await request.get("/api/verify/4");
    expect(first.status()).toBe(200);
    const headers = first.headers();
    const { cropType } = (await first.json()).batch as { cropType: string };
    expect(headers.etag).toMatch(/^"[\w-]{27}"$/);
    expect(headers["cache-control"]).toBe("public, s-maxage=300, stale-while-revalidate=600");
    const tag = `crop-${cropType.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
    expect(headers["cache-tag"]).toBe(`token-4,${tag}`);
    expect(headers["surrogate-key"]).toBe(`token-4 ${tag}`);

    for (const path of ["/api/verify/4", "/api/verify/4?via=next"]) {
      const again = await request.get(path, { headers: { "if-none-match": headers.etag ?? "" } });
      expect(again.status()).toBe(304);
      expect(again.headers().etag).toBe(headers.etag);
      expect((await again.body()).length).toBe(0);
    }
  });

  test("the verification page carries the same cache policy and tags", async ({ request }) => {
    const page = await request.get("/verify/4");
    expect(page.status()).toBe(200);
    expect(page.headers()["cache-control"]).toBe("public, s-maxage=300, stale-while-revalidate=600");
    expect(page.headers()["cache-tag"]).toMatch(/^token-4,crop-[a-z0-9-]+$/);
  });

  test("GET /api/metrics serves Prometheus text with latency histograms, cache tiers and pools", async ({
    request,
  }) => {
    await request.get("/api/verify/5");
    const response = await request.get("/api/metrics");
    expect(response.status()).toBe(200);
    expect(response.headers()["content-type"]).toContain("text/plain");
    const text = await response.text();
    expect(text).toMatch(/^gl_http_request_duration_seconds_bucket\{le="0.001",route="\/api\/verify\/:id"/m);
    expect(text).toMatch(/^gl_cache_requests_total\{namespace="verify",result="(l1|miss)"\} \d+/m);
    expect(text).toMatch(/^gl_db_pool_connections\{pool="read",state="total"\} \d+/m);
    expect(text).toMatch(/^gl_cache_warmup\{measure="seconds"\} /m);
  });
});
