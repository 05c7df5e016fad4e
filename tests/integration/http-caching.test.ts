import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as recordEvent } from "@/app/api/crop-batches/[tokenId]/events/route";
import { POST as createBatch } from "@/app/api/crop-batches/route";
import { POST as search } from "@/app/api/crop-batches/search/route";
import { GET as verify } from "@/app/api/verify/[tokenId]/route";
import { consumeRateLimit, forgetRateLimit } from "@/lib/api/rate-limit";
import { env } from "@/lib/env.mjs";
import { createGateway } from "@/lib/http/gateway";
import { httpPurgeTarget, setPurgeTarget } from "@/lib/http/purge";
import { metrics } from "@/lib/metrics/metrics";
import { call, farmOf, newBatch, type TestUser, userWithRole } from "@/tests/support/api";

// Stands in for Next behind the gateway: the same route handler, driven through a real Request.
async function routeHandler(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const url = new URL(request.url ?? "/", "http://localhost");
  const match = url.pathname.match(/^\/api\/verify\/([^/]+)$/);
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) if (typeof value === "string") headers.set(name, value);
  let answer: Response;
  if (match) {
    answer = await verify(new Request(url, { headers }), { params: Promise.resolve({ tokenId: match[1] ?? "" }) });
  } else if (url.pathname === "/api/crop-batches/search" && request.method === "POST") {
    const body = Buffer.concat(await request.toArray());
    answer = await search(new Request(url, { method: "POST", headers, body }), { params: Promise.resolve({}) });
  } else {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(answer.status, Object.fromEntries(answer.headers));
  response.end(Buffer.from(await answer.arrayBuffer()));
}

async function fastPathCount(): Promise<number> {
  return (await metrics.fastPath.get()).values[0]?.value ?? 0;
}

describe("HTTP caching and the gateway's fast verification path", () => {
  let server: http.Server;
  let base: string;
  let farmer: TestUser;
  let farmId: number;

  beforeAll(async () => {
    server = http.createServer(createGateway(routeHandler));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    farmer = await userWithRole("farmer");
    farmId = (await farmOf(farmer.address)).id;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  async function harvested(cropType = "Quince") {
    const response = await call(
      createBatch,
      {},
      {
        method: "POST",
        body: newBatch(farmId, { cropType }),
        cookie: farmer.cookie,
      },
    );
    expect(response.status).toBe(201);
    return response.body.tokenId as number;
  }

  const ship = (tokenId: number) =>
    call(
      recordEvent,
      { tokenId: String(tokenId) },
      { method: "POST", body: { action: "ship" }, cookie: farmer.cookie },
    );

  const withoutDate = (headers: Headers) => Object.fromEntries([...headers].filter(([name]) => name !== "date"));

  it("answers a cached token from the gateway with the same status, headers and body as the route", async () => {
    const tokenId = await harvested();
    // A query string always goes to the route; the first answer also fills the cache.
    const viaRoute = await fetch(`${base}/api/verify/${tokenId}?via=route`);
    const before = await fastPathCount();
    const viaGateway = await fetch(`${base}/api/verify/${tokenId}`);
    expect(await fastPathCount()).toBe(before + 1);
    expect(viaGateway.status).toBe(200);
    expect(withoutDate(viaGateway.headers)).toEqual({ ...withoutDate(viaRoute.headers), vary: expect.any(String) });
    expect(await viaGateway.text()).toBe(await viaRoute.text());
    expect(viaGateway.headers.get("cache-control")).toBe("public, s-maxage=300, stale-while-revalidate=600");
    expect(viaGateway.headers.get("cache-tag")).toBe(`token-${tokenId},crop-quince`);
    expect(viaGateway.headers.get("surrogate-key")).toBe(`token-${tokenId} crop-quince`);
  });

  it("loads a token not yet cached in the gateway too, with the same answer as the route", async () => {
    const tokenId = await harvested();
    const before = await fastPathCount();
    const viaGateway = await fetch(`${base}/api/verify/${tokenId}`);
    expect(await fastPathCount()).toBe(before + 1);
    const viaRoute = await fetch(`${base}/api/verify/${tokenId}?via=route`);
    expect(viaGateway.status).toBe(200);
    expect(withoutDate(viaGateway.headers)).toEqual({ ...withoutDate(viaRoute.headers), vary: expect.any(String) });
    expect(await viaGateway.text()).toBe(await viaRoute.text());
  });

  it("answers search in the gateway with the route's answers, bad input included", async () => {
    const cropType = `Sorb${Date.now()}`;
    await harvested(cropType);
    const gatewayCount = async () =>
      (await metrics.gatewayRoutes.get()).values.find((value) => value.labels.route === "/api/crop-batches/search")
        ?.value ?? 0;
    const json = "application/json";
    const cases: [string, string][] = [
      [json, JSON.stringify({ cropType })],
      [json, JSON.stringify({ limit: "many" })],
      [json, "{not json"],
      [json, `{"q":"${"x".repeat(70 * 1024)}"}`],
      ["text/plain", JSON.stringify({ cropType })],
      [json, ""],
    ];
    for (const [contentType, body] of cases) {
      const post = (path: string) =>
        fetch(base + path, { method: "POST", headers: { "content-type": contentType }, body });
      const before = await gatewayCount();
      const direct = await post("/api/crop-batches/search");
      expect(await gatewayCount()).toBe(before + 1);
      const viaRoute = await post("/api/crop-batches/search?via=route");
      expect(direct.status).toBe(viaRoute.status);
      expect(withoutDate(direct.headers)).toEqual({ ...withoutDate(viaRoute.headers), vary: expect.any(String) });
      expect(await direct.text()).toBe(await viaRoute.text());
    }
    const found = await (
      await fetch(`${base}/api/crop-batches/search`, {
        method: "POST",
        headers: { "content-type": json },
        body: JSON.stringify({ cropType }),
      })
    ).json();
    expect(found.results).toHaveLength(1);
  });

  it("gives a strong ETag and answers 304 to If-None-Match on both paths, until the batch changes", async () => {
    const tokenId = await harvested();
    const first = await fetch(`${base}/api/verify/${tokenId}`);
    const etag = first.headers.get("etag") ?? "";
    expect(etag).toMatch(/^"[\w-]{27}"$/);
    for (const path of [`/api/verify/${tokenId}`, `/api/verify/${tokenId}?via=route`]) {
      const again = await fetch(base + path, { headers: { "if-none-match": etag } });
      expect(again.status).toBe(304);
      expect(again.headers.get("etag")).toBe(etag);
      expect(again.headers.get("cache-tag")).toBe(`token-${tokenId},crop-quince`);
      expect(await again.text()).toBe("");
      // Any other tag in the list, or a weak form of this one, matches too (RFC 9110 weak comparison).
      expect((await fetch(base + path, { headers: { "if-none-match": `"other", W/${etag}` } })).status).toBe(304);
      expect((await fetch(base + path, { headers: { "if-none-match": '"other"' } })).status).toBe(200);
    }
    expect((await ship(tokenId)).status).toBe(201);
    const changed = await fetch(`${base}/api/verify/${tokenId}`, { headers: { "if-none-match": etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect((await changed.json()).batch.stateName).toBe("in_transit");
  });

  it("sends a verification, loaded or cached, and a search page with their length, not chunked", async () => {
    const tokenId = await harvested("Loquat");
    const search = { method: "POST", headers: { "content-type": "application/json" }, body: '{"cropType":"Loquat"}' };
    for (const [path, init] of [
      [`/api/verify/${tokenId}`, {}],
      [`/api/verify/${tokenId}`, {}],
      ["/api/crop-batches/search", search],
    ] as const) {
      const answer = await fetch(base + path, init);
      expect(answer.status).toBe(200);
      expect(answer.headers.get("transfer-encoding")).toBeNull();
      expect(answer.headers.get("content-length")).toBe(String((await answer.arrayBuffer()).byteLength));
    }
  });

  it("answers bad ids and unknown tokens in the one error shape, an unknown token as the route would", async () => {
    const bad = await fetch(`${base}/api/verify/abc`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe("bad_request");
    const unknown = await fetch(`${base}/api/verify/987654321`);
    expect(unknown.status).toBe(404);
    const viaRoute = await fetch(`${base}/api/verify/987654321?via=route`);
    expect(withoutDate(unknown.headers)).toEqual({ ...withoutDate(viaRoute.headers), vary: expect.any(String) });
    const body = await unknown.json();
    expect(body.error.code).toBe("not_found");
    expect(body).toEqual(await viaRoute.json());
  });

  it("calls the purge endpoint on every change: the batch's own tag at once, the lists' tags soft", async () => {
    const received: { method?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
    let arrived: () => void = () => undefined;
    const purgeServer = http.createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        received.push({ method: request.method, headers: request.headers, body });
        response.writeHead(200).end("{}");
        arrived();
      });
    });
    await new Promise<void>((resolve) => purgeServer.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(purgeServer.address() as AddressInfo).port}/purge`;
    setPurgeTarget(httpPurgeTarget(url, "POST", "purge-secret"));
    try {
      let purged = new Promise<void>((resolve) => (arrived = resolve));
      const tokenId = await harvested();
      await purged;
      purged = new Promise<void>((resolve) => (arrived = resolve));
      expect((await ship(tokenId)).status).toBe(201);
      await purged;
      expect(received).toHaveLength(2);
      for (const request of received) {
        expect(request.method).toBe("POST");
        expect(request.headers.authorization).toBe("Bearer purge-secret");
        expect(request.headers["xkey-purge"]).toBe(`token-${tokenId}`);
        expect(request.headers["xkey-softpurge"]).toBe("market analytics");
        expect(request.headers["surrogate-key"]).toBe(`token-${tokenId} market analytics`);
        expect(JSON.parse(request.body)).toEqual({ tags: [`token-${tokenId}`, "market", "analytics"] });
      }
    } finally {
      setPurgeTarget(async () => undefined);
      await new Promise((resolve) => purgeServer.close(resolve));
    }
  });

  it("keeps a search's pages, later ones too, briefly and drops them when a batch changes", async () => {
    const cropType = `Medlar${Date.now()}`;
    const page = (cursor?: string) =>
      call(search, {}, { method: "POST", body: { cropType, limit: 1, ...(cursor ? { cursor } : {}) } });
    const hits = async () =>
      (await metrics.cacheRequests.get()).values.find(
        (value) => value.labels.namespace === "search" && value.labels.result === "l1",
      )?.value ?? 0;
    const [older, newer] = [await harvested(cropType), await harvested(cropType)];
    const first = await page();
    expect(first.body.results.map((batch: { tokenId: number }) => batch.tokenId)).toEqual([newer]);
    const second = await page(first.body.nextCursor);
    expect(second.body.results.map((batch: { tokenId: number }) => batch.tokenId)).toEqual([older]);
    const before = await hits();
    expect((await page()).body).toEqual(first.body);
    expect((await page(first.body.nextCursor)).body).toEqual(second.body);
    expect(await hits()).toBe(before + 2);
    await ship(older);
    const after = await page(first.body.nextCursor);
    expect(await hits()).toBe(before + 2);
    expect(after.body.results[0]).toMatchObject({ tokenId: older, stateName: "in_transit" });
  });

  it("answers 429 with Retry-After in the one error shape once an address or session has used its allowance", async () => {
    for (let used = 0; used < env.RATE_LIMIT_WRITE_POINTS; used += 1) {
      await consumeRateLimit("session", farmer.address).catch(() => undefined);
    }
    const write = await call(createBatch, {}, { method: "POST", body: newBatch(farmId), cookie: farmer.cookie });
    expect(write.status).toBe(429);
    expect(write.body.error.code).toBe("rate_limited");
    expect(Number(write.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(write.headers.get("retry-after"))).toBeLessThanOrEqual(env.RATE_LIMIT_WRITE_SECONDS);

    // The gateway sees this test as 127.0.0.1; health checks stay open whatever the count.
    for (let used = 0; used < env.RATE_LIMIT_PUBLIC_POINTS; used += 1) {
      await consumeRateLimit("ip", "127.0.0.1").catch(() => undefined);
    }
    const limited = await fetch(`${base}/api/verify/1`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("content-type")).toBe("application/json");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toEqual({
      error: { code: "rate_limited", message: expect.stringContaining("Too many requests from your address") },
    });
    expect((await metrics.rateLimited.get()).values.map((value) => value.labels.scope).sort()).toEqual([
      "ip",
      "session",
    ]);
    // With Redis the count is shared with the suite's next files, which also call from 127.0.0.1.
    await forgetRateLimit("ip", "127.0.0.1");
    await forgetRateLimit("session", farmer.address);
    expect((await fetch(`${base}/api/verify/1`)).status).not.toBe(429);
  });
});
