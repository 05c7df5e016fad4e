import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type http from "node:http";
import path from "node:path";
import { env } from "@/lib/env.mjs";

export type SecurityOptions = {
  publicBaseUrl: string;
  development: boolean;
  /** WalletConnect's relay, verify frame and wallet images are allowed only when a project id is configured. */
  walletConnect: boolean;
  /** Hash sources ('sha256-...') of the inline scripts of the pages prerendered at build time. */
  prerenderedScripts: readonly string[];
  /** The map tiles' URL template (live tracking), whose origin images may come from; empty: none. */
  mapTiles: string;
};

type HeaderSet = Readonly<Record<string, string>>;

export type SecurityHeaders = {
  /** JSON and other non-page answers: nothing may load and nothing may frame them (OWASP's advice for APIs). */
  api: HeaderSet;
  /** HTML that carries no per-request nonce: the gateway's own pages and the pages prerendered at build time. */
  staticPage: HeaderSet;
  /** Sets the headers of an answer Next makes; a page gets a fresh nonce, which Next reads from the request. */
  secureNextAnswer(request: http.IncomingMessage, response: http.ServerResponse, pathname: string): void;
};

/** Where browsers send what a policy blocked (lib/http/csp-reports.ts). */
export const CSP_REPORT_PATH = "/api/csp-reports";
const API_POLICY = "default-src 'none'; frame-ancestors 'none'";
// What a static file needs when opened on its own; the service worker's fetches fall under it too (connect-src).
const ASSET_POLICY = `default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; report-uri ${CSP_REPORT_PATH}`;
// Only the field pages (the farmer's, later the transporter's) may ask for the camera and the position.
const FIELD_PAGES = /^\/(?:farmer|transporter)(?:\/|$)/;
const WALLETCONNECT = {
  img: "https://*.walletconnect.com",
  connect:
    "https://*.walletconnect.com https://*.walletconnect.org wss://*.walletconnect.com wss://*.walletconnect.org",
  frame: "https://verify.walletconnect.com https://verify.walletconnect.org",
};
const DENIED_FEATURES = [
  "accelerometer",
  "autoplay",
  "bluetooth",
  "display-capture",
  "encrypted-media",
  "fullscreen",
  "gyroscope",
  "hid",
  "idle-detection",
  "magnetometer",
  "microphone",
  "midi",
  "payment",
  "picture-in-picture",
  "publickey-credentials-get",
  "serial",
  "usb",
  "xr-spatial-tracking",
];

function permissionsPolicy(field: boolean): string {
  const allowed = field ? "(self)" : "()";
  // A transporter sharing the trip keeps the screen on, or the browser stops giving positions.
  return [
    ...DENIED_FEATURES.map((feature) => `${feature}=()`),
    `camera=${allowed}`,
    `geolocation=${allowed}`,
    `screen-wake-lock=${allowed}`,
  ].join(", ");
}

/** The CSP hash source of an inline script's text, as a browser computes it. */
function scriptHash(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

const INLINE_SCRIPT = /<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g;

/** The hash sources of every inline script in the HTML `next build` prerendered; none without a build. */
export function prerenderedScriptHashes(distDir: string): string[] {
  const manifestFile = path.join(distDir, "prerender-manifest.json");
  if (!existsSync(manifestFile)) return [];
  const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as { routes: Record<string, unknown> };
  const hashes = new Set<string>();
  for (const route of Object.keys(manifest.routes)) {
    const file = path.join(distDir, "server", "app", `${route === "/" ? "/index" : route}.html`);
    if (!existsSync(file)) continue;
    for (const match of readFileSync(file, "utf8").matchAll(INLINE_SCRIPT)) {
      if (match[1]) hashes.add(scriptHash(match[1]));
    }
  }
  return [...hashes].sort();
}

/** Replaces a request header for Next, which reads rawHeaders too; a client cannot send its own. */
export function setRequestHeader(request: http.IncomingMessage, name: string, value: string): void {
  const raw = request.rawHeaders;
  for (let index = raw.length - 2; index >= 0; index -= 2) {
    if (raw[index]?.toLowerCase() === name) raw.splice(index, 2);
  }
  raw.push(name, value);
  request.headers[name] = value;
}

export function createSecurityHeaders(options: SecurityOptions): SecurityHeaders {
  const https = new URL(options.publicBaseUrl).protocol === "https:";
  const walletConnect = options.walletConnect;
  // Leaflet's {s} picks a subdomain: any of them.
  const tileOrigin = options.mapTiles.match(/^https?:\/\/[^/]+/)?.[0].replace("{s}", "*") ?? "";
  const base = (field: boolean): HeaderSet => ({
    ...(https ? { "strict-transport-security": "max-age=63072000; includeSubDomains" } : {}),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
    "x-permitted-cross-domain-policies": "none",
    "permissions-policy": permissionsPolicy(field),
  });
  const pagePolicy = (scriptSources: string): string =>
    [
      "default-src 'self'",
      // 'self' and not 'strict-dynamic': prerendered pages and the verify page's sw-register.js load scripts by URL
      // without a nonce. nosniff keeps any same-origin answer that is not JavaScript from running as one.
      ["script-src 'self'", scriptSources, options.development ? "'unsafe-eval'" : ""].filter(Boolean).join(" "),
      // React and RainbowKit set style attributes and inject <style>; these cannot carry a nonce.
      "style-src 'self' 'unsafe-inline'",
      ["img-src 'self' data: blob:", walletConnect ? WALLETCONNECT.img : "", tileOrigin].filter(Boolean).join(" "),
      "font-src 'self'",
      // Next's development server reloads over a websocket.
      ["connect-src 'self'", options.development ? "ws: wss:" : "", walletConnect ? WALLETCONNECT.connect : ""]
        .filter(Boolean)
        .join(" "),
      ...(walletConnect ? [`frame-src 'self' ${WALLETCONNECT.frame}`] : []),
      "worker-src 'self'",
      "manifest-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
      ...(https ? ["upgrade-insecure-requests"] : []),
      `report-uri ${CSP_REPORT_PATH}`,
    ].join("; ");
  const [noncePrefix, nonceSuffix] = pagePolicy("'nonce-\0'").split("\0") as [string, string];
  const staticPolicy = pagePolicy(options.prerenderedScripts.join(" "));
  const headers = { page: base(false), field: base(true) };
  // A feature policy acts on documents only; JSON under default-src 'none' cannot become one that runs.
  const { "permissions-policy": _features, ...forJson } = headers.page;
  const api = { ...forJson, "content-security-policy": API_POLICY };
  const asset = { ...headers.page, "content-security-policy": ASSET_POLICY };
  const setAll = (response: http.ServerResponse, set: HeaderSet) => {
    for (const name in set) response.setHeader(name, set[name] as string);
  };

  return {
    api,
    staticPage: { ...headers.page, "content-security-policy": staticPolicy },
    secureNextAnswer(request, response, pathname) {
      if (pathname.startsWith("/api/")) return setAll(response, api);
      if (pathname.startsWith("/_next/static/")) return setAll(response, asset);
      const nonce = randomBytes(16).toString("base64");
      const noncePolicy = noncePrefix + nonce + nonceSuffix;
      setRequestHeader(request, "content-security-policy", noncePolicy);
      const set = FIELD_PAGES.test(pathname) ? headers.field : headers.page;
      const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => http.ServerResponse;
      response.writeHead = ((statusCode: number, ...rest: unknown[]) => {
        setAll(response, set);
        // A 304 has no content type to choose by, and its headers replace the stored answer's: it sends no policy,
        // so a revalidated page keeps the one its HTML was sent with (the asset policy would block its scripts).
        if (statusCode === 304) {
          response.removeHeader("content-security-policy");
          return writeHead(statusCode, ...rest);
        }
        const html = String(response.getHeader("content-type") ?? "").startsWith("text/html");
        // A prerendered page is sent as built, without the nonce: its inline scripts are allowed by their hashes.
        const prerendered = response.hasHeader("x-nextjs-prerender");
        response.setHeader("content-security-policy", !html ? ASSET_POLICY : prerendered ? staticPolicy : noncePolicy);
        return writeHead(statusCode, ...rest);
      }) as typeof response.writeHead;
    },
  };
}

export const securityHeaders = createSecurityHeaders({
  publicBaseUrl: env.PUBLIC_BASE_URL,
  development: env.NODE_ENV === "development",
  walletConnect: Boolean(env.NEXT_PUBLIC_WALLETCONNECT_PROJECT_ID),
  prerenderedScripts: env.NODE_ENV === "production" ? prerenderedScriptHashes(path.resolve(".next")) : [],
  mapTiles: env.MAP_TILE_URL,
});
