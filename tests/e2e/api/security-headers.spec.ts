import { createHash } from "node:crypto";
import type { APIResponse } from "@playwright/test";
import { expect, test } from "../support/fixtures";

const API_POLICY = "default-src 'none'; frame-ancestors 'none'";

function directive(response: APIResponse, name: string): string {
  const policy = response.headers()["content-security-policy"] ?? "";
  const found = policy
    .split(";")
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${name} `));
  return found ?? "";
}

/** The OWASP set every answer carries (http here, so no HSTS); documents also get a feature policy. */
function expectSecureHeaders(response: APIResponse, kind: "document" | "field page" | "json" = "document"): void {
  const headers = response.headers();
  expect(headers).toMatchObject({
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
    "x-permitted-cross-domain-policies": "none",
  });
  expect(headers["strict-transport-security"]).toBeUndefined();
  expect(directive(response, "frame-ancestors")).toBe("frame-ancestors 'none'");
  if (kind === "json") {
    expect(headers["content-security-policy"]).toBe(API_POLICY);
    return;
  }
  const allowed = kind === "field page" ? "(self)" : "()";
  expect(headers["permissions-policy"]).toContain(`camera=${allowed}`);
  expect(headers["permissions-policy"]).toContain(`geolocation=${allowed}`);
  expect(headers["permissions-policy"]).toContain(`screen-wake-lock=${allowed}`);
  expect(headers["permissions-policy"]).toContain("microphone=()");
}

const scriptTags = (html: string) => [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];

test.describe("security headers on every answer", () => {
  test("a page rendered per request allows exactly the scripts it carries, by a fresh nonce", async ({ request }) => {
    const page = await request.get("/");
    expect(page.status()).toBe(200);
    expectSecureHeaders(page);
    const scriptSrc = directive(page, "script-src");
    expect(scriptSrc).not.toContain("unsafe-inline");
    expect(scriptSrc).not.toContain("unsafe-eval");
    const nonce = scriptSrc.match(/'nonce-([^']+)'/)?.[1] ?? "";
    expect(nonce).not.toBe("");
    const scripts = scriptTags(await page.text());
    expect(scripts.length).toBeGreaterThan(2);
    for (const [, attributes] of scripts) expect(attributes).toContain(`nonce="${nonce}"`);
    expect(directive(page, "object-src")).toBe("object-src 'none'");
    expect(directive(page, "base-uri")).toBe("base-uri 'none'");

    const again = await request.get("/");
    expect(directive(again, "script-src")).not.toBe(scriptSrc);
  });

  test("a prerendered farmer page allows its inline scripts by hash and may use camera and position", async ({
    request,
  }) => {
    const page = await request.get("/farmer");
    expect(page.status()).toBe(200);
    expectSecureHeaders(page, "field page");
    const scriptSrc = directive(page, "script-src");
    expect(scriptSrc).not.toContain("unsafe-inline");
    const inline = scriptTags(await page.text()).filter(([, attributes]) => !attributes?.includes("src="));
    expect(inline.length).toBeGreaterThan(0);
    for (const [, , body] of inline) {
      expect(scriptSrc).toContain(
        `'sha256-${createHash("sha256")
          .update(body ?? "")
          .digest("base64")}'`,
      );
    }
  });

  test("API answers, from Next and from the gateway, load nothing and cannot be framed", async ({ request }) => {
    expectSecureHeaders(await request.get("/api/health"), "json");

    // The second read of a token is a cache hit answered by the gateway itself.
    for (const answer of [await request.get("/api/verify/2"), await request.get("/api/verify/2")]) {
      expect(answer.status()).toBe(200);
      expectSecureHeaders(answer, "json");
    }
    const search = await request.post("/api/crop-batches/search", { data: { limit: 1 } });
    expect(search.status()).toBe(200);
    expectSecureHeaders(search, "json");
  });

  test("the gateway's own status page and the static files carry the set too", async ({ request }) => {
    const unknown = await request.get("/verify/999999999");
    expect(unknown.status()).toBe(404);
    expect(await unknown.text()).toContain("We could not find this batch");
    expectSecureHeaders(unknown);
    expect(directive(unknown, "script-src")).not.toContain("unsafe-inline");

    const chunk = (await (await request.get("/")).text()).match(/\/_next\/static\/[^"]+\.js/)?.[0] ?? "";
    for (const path of [chunk, "/sw.js", "/manifest.webmanifest", "/icons/icon-192.png"]) {
      const file = await request.get(path);
      expect(file.status(), path).toBe(200);
      expectSecureHeaders(file);
      expect(directive(file, "default-src")).toBe("default-src 'self'");
    }
  });
});
