import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecurityHeaders, prerenderedScriptHashes, type SecurityOptions } from "./security-headers";

const options: SecurityOptions = {
  publicBaseUrl: "http://localhost:3000",
  development: false,
  walletConnect: false,
  prerenderedScripts: ["'sha256-VXfQxoId3eHgS78yBQY2mYYWuOAzZGdxULBMV816UdU='"],
  mapTiles: "",
};

function directive(policy: string, name: string): string | undefined {
  return policy
    .split(";")
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${name} `));
}

describe("security headers", () => {
  it("lets pages load map tiles from the configured tile server only", () => {
    const imgSrc = (mapTiles: string) =>
      directive(createSecurityHeaders({ ...options, mapTiles }).staticPage["content-security-policy"] ?? "", "img-src");
    expect(imgSrc("")).toBe("img-src 'self' data: blob:");
    expect(imgSrc("https://tile.openstreetmap.org/{z}/{x}/{y}.png")).toBe(
      "img-src 'self' data: blob: https://tile.openstreetmap.org",
    );
    expect(imgSrc("https://{s}.tiles.example.org/{z}/{x}/{y}.png")).toBe(
      "img-src 'self' data: blob: https://*.tiles.example.org",
    );
  });

  it("sends HSTS and upgrades requests only when the public URL is https", () => {
    const plain = createSecurityHeaders(options);
    expect(plain.api["strict-transport-security"]).toBeUndefined();
    expect(plain.staticPage["content-security-policy"]).not.toContain("upgrade-insecure-requests");

    const secure = createSecurityHeaders({ ...options, publicBaseUrl: "https://ledger.example.org" });
    expect(secure.api["strict-transport-security"]).toBe("max-age=63072000; includeSubDomains");
    expect(secure.staticPage["strict-transport-security"]).toBe("max-age=63072000; includeSubDomains");
    expect(secure.staticPage["content-security-policy"]).toContain("upgrade-insecure-requests");
  });

  it("answers an API with nothing to load and framing refused", () => {
    const { api } = createSecurityHeaders(options);
    expect(api).toMatchObject({
      "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
      "x-frame-options": "DENY",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cross-origin-resource-policy": "same-origin",
    });
    // Only documents use features; JSON that cannot run anything needs no feature policy.
    expect(api["permissions-policy"]).toBeUndefined();
  });

  it("allows a prerendered page's inline scripts by hash, never 'unsafe-inline'", () => {
    const policy = createSecurityHeaders(options).staticPage["content-security-policy"] ?? "";
    expect(directive(policy, "script-src")).toBe(
      "script-src 'self' 'sha256-VXfQxoId3eHgS78yBQY2mYYWuOAzZGdxULBMV816UdU='",
    );
    expect(directive(policy, "frame-ancestors")).toBe("frame-ancestors 'none'");
    expect(directive(policy, "object-src")).toBe("object-src 'none'");
    expect(directive(policy, "report-uri")).toBe("report-uri /api/csp-reports");
  });

  it("allows eval and the reload websocket in development only", () => {
    const policy = createSecurityHeaders({ ...options, development: true }).staticPage["content-security-policy"] ?? "";
    expect(directive(policy, "script-src")).toContain("'unsafe-eval'");
    expect(directive(policy, "connect-src")).toBe("connect-src 'self' ws: wss:");
    expect(createSecurityHeaders(options).staticPage["content-security-policy"]).not.toContain("unsafe-eval");
  });

  it("hashes the inline scripts of the pages a build prerendered", () => {
    const dist = mkdtempSync(path.join(os.tmpdir(), "gl-csp-"));
    try {
      mkdirSync(path.join(dist, "server", "app", "farmer"), { recursive: true });
      writeFileSync(path.join(dist, "prerender-manifest.json"), JSON.stringify({ routes: { "/farmer/new": {} } }));
      writeFileSync(
        path.join(dist, "server", "app", "farmer", "new.html"),
        '<html><script src="/_next/static/a.js" async=""></script><script>self.__next_f.push([0])</script></html>',
      );
      expect(prerenderedScriptHashes(dist)).toEqual(["'sha256-VXfQxoId3eHgS78yBQY2mYYWuOAzZGdxULBMV816UdU='"]);
      expect(prerenderedScriptHashes(path.join(dist, "missing"))).toEqual([]);
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });

  describe("on answers Next makes", () => {
    const security = createSecurityHeaders(options);
    let server: http.Server;
    let base: string;
    const seenByNext: string[] = [];

    beforeAll(async () => {
      // Stands in for Next: reads the policy from the request, as Next does, and answers by path.
      server = http.createServer((request, response) => {
        const pathname = request.url ?? "/";
        security.secureNextAnswer(request, response, pathname);
        seenByNext.push(String(request.headers["content-security-policy"] ?? ""));
        if (pathname.endsWith(".js")) response.setHeader("content-type", "application/javascript");
        else if (pathname.startsWith("/api/")) response.setHeader("content-type", "application/json");
        else response.setHeader("content-type", "text/html; charset=utf-8");
        if (pathname === "/farmer") response.setHeader("x-nextjs-prerender", "1");
        if (request.headers["if-none-match"] === '"built"') {
          // As Next revalidates a prerendered page: no body, no content type.
          response.removeHeader("content-type");
          response.writeHead(304, { etag: '"built"' });
          response.end();
          return;
        }
        response.end("ok");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it("gives a rendered page a fresh nonce, the same one Next was given", async () => {
      const first = await fetch(`${base}/marketplace`, {
        headers: { "content-security-policy": "script-src 'nonce-chosenByTheClient'" },
      });
      const second = await fetch(`${base}/marketplace`);
      const policy = first.headers.get("content-security-policy") ?? "";
      const nonce = directive(policy, "script-src")?.match(/'nonce-([A-Za-z0-9+/=]+)'/)?.[1];
      expect(nonce).toHaveLength(24);
      expect(directive(policy, "script-src")).toBe(`script-src 'self' 'nonce-${nonce}'`);
      expect(seenByNext.at(-2)).toBe(policy);
      expect(second.headers.get("content-security-policy")).not.toBe(policy);
      expect(first.headers.get("x-frame-options")).toBe("DENY");
      expect(first.headers.get("permissions-policy")).toContain("camera=()");
    });

    it("sends a prerendered page with the hash policy and lets the farmer pages use camera and position", async () => {
      const answer = await fetch(`${base}/farmer`);
      expect(answer.headers.get("content-security-policy")).toBe(security.staticPage["content-security-policy"]);
      expect(answer.headers.get("permissions-policy")).toContain("camera=(self)");
      expect(answer.headers.get("permissions-policy")).toContain("geolocation=(self)");
    });

    it("sends no policy with a 304, so a revalidated page keeps the one its HTML came with", async () => {
      const revalidated = await fetch(`${base}/farmer`, { headers: { "if-none-match": '"built"' } });
      expect(revalidated.status).toBe(304);
      expect(revalidated.headers.get("content-security-policy")).toBeNull();
      expect(revalidated.headers.get("x-content-type-options")).toBe("nosniff");
    });

    it("sends static files and route handlers without a nonce", async () => {
      const script = await fetch(`${base}/_next/static/chunks/app.js`);
      expect(script.headers.get("content-security-policy")).toBe(
        "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; report-uri /api/csp-reports",
      );
      expect(seenByNext.at(-1)).toBe("");
      const worker = await fetch(`${base}/sw.js`);
      expect(worker.headers.get("content-security-policy")).toBe(script.headers.get("content-security-policy"));
      const api = await fetch(`${base}/api/health`);
      expect(api.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(api.headers.get("x-content-type-options")).toBe("nosniff");
    });
  });
});
