import type http from "node:http";
import { readIncomingJson } from "@/lib/api/body";
import { ApiError } from "@/lib/api/errors";
import { errorResponse } from "@/lib/api/handler";
import { consumeRateLimit } from "@/lib/api/rate-limit";
import { verificationKey } from "@/lib/batches/on-batch-changed";
import { searchSchema, tokenIdSchema } from "@/lib/batches/schema";
import { searchJson } from "@/lib/batches/search-batches-cached";
import { peek } from "@/lib/cache/tiered-cache";
import { env } from "@/lib/env.mjs";
import { metrics } from "@/lib/metrics/metrics";
import { routeLabel } from "@/lib/metrics/route-label";
import { CLIENT_ADDRESS_HEADER } from "@/lib/scans/client-address";
import { findTokenByGs1 } from "@/lib/verify/find-token-by-gs1";
import { getVerification, type Verification } from "@/lib/verify/get-verification";
import { VERIFY_CACHE_CONTROL, verificationAnswer, verificationCacheHeaders } from "@/lib/verify/verification-response";
import { serveCspReport } from "./csp-reports";
import { securityHeaders, setRequestHeader } from "./security-headers";

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => Promise<void>;

// Next answers a path it cannot percent-decode with a plain-text 500; it is the caller's mistake.
function malformedPath(url: string): boolean {
  try {
    decodeURIComponent(url.split("?")[0] ?? "");
    return false;
  } catch {
    return true;
  }
}

const badPath = JSON.stringify(
  new ApiError("bad_request", "The URL path is not validly percent-encoded.", [
    { path: "(url)", message: "Invalid percent-encoding" },
  ]).toBody(),
);

// A phone camera opens these links: small self-contained pages, readable without JavaScript. Next cannot answer 400
// from a page, and its 404 for a dynamic page here needs JavaScript to show its text.
function statusPage(title: string, paragraph: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="theme-color" content="#1f6f43">
<title>${title} · GreenLedger</title><style>
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#17211b;background:#f7f8f4;line-height:1.5}
main{max-width:40rem;margin:0 auto;padding:2rem 1.25rem}h1{color:#154d2f;margin:0 0 .5rem}a{color:#154d2f}
</style></head><body><main><h1>${title}</h1><p>${paragraph}</p>
<p><a href="/">Go to GreenLedger</a></p></main></body></html>`;
}

const badTokenPage = statusPage(
  "This is not a batch code",
  "The link should end in the batch number printed on the label, such as <code>/verify/1234</code>. The code may have been scanned only in part: try scanning it again, or type the number printed under the QR code.",
);
const unknownTokenPage = statusPage(
  "We could not find this batch",
  "No batch has this number. Check the number printed under the QR code; if it matches, the label may not be genuine, and the shop that sold it should know.",
);

function sendPage(request: http.IncomingMessage, response: http.ServerResponse, status: number, page: string): void {
  response.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    ...securityHeaders.staticPage,
  });
  response.end(request.method === "HEAD" ? undefined : page);
}

const verifyPath = /^\/verify\/([^/]*)\/?$/;
const digitalLinkPath = /^\/01\/([^/]+)\/10\/([^/]+)\/?$/;

function clientAddress(request: http.IncomingMessage): string {
  const forwarded = env.TRUST_PROXY ? request.headers["x-forwarded-for"] : undefined;
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim();
  return first || request.socket.remoteAddress || "";
}

// The page shows scan counts too, so it gets the verification's cache policy and tags but no ETag of its own.
function publicCache(response: http.ServerResponse, verification: Verification | undefined): void {
  const headers = verification ? verificationCacheHeaders(verification) : { "cache-control": VERIFY_CACHE_CONTROL };
  const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => http.ServerResponse;
  response.writeHead = ((statusCode: number, ...rest: unknown[]) => {
    if (statusCode === 200) for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
    return writeHead(statusCode, ...rest);
  }) as typeof response.writeHead;
}

/** The verification, null for a token no batch has, undefined when the lookup failed (Next reports that). */
async function lookUp(tokenId: number): Promise<Verification | null | undefined> {
  return getVerification(tokenId).catch((error: unknown) =>
    error instanceof ApiError && error.code === "not_found" ? null : undefined,
  );
}

function sendError(response: http.ServerResponse, error: ApiError): void {
  response.writeHead(error.status, { "content-type": "application/json", ...error.headers, ...securityHeaders.api });
  response.end(JSON.stringify(error.toBody()));
}

// Every /api/ call counts against the caller's address, except the probes an operator's tools make.
const unlimited = new Set(["/api/health", "/api/metrics"]);
const apiVerifyPath = /^\/api\/verify\/([^/?]+)$/;
// What Next adds to every App Router answer; the e2e check compares both paths' headers, so a change shows there.
const NEXT_VARY = "rsc, next-router-state-tree, next-router-prefetch, next-router-segment-prefetch";

/**
 * A verification answered here, byte for byte what the Next route answers (same body, validators and cache headers,
 * and the same error answer for an unknown token or a failed lookup), without Next's per-request cost: from memory
 * when cached, else loaded through the cache. Bad ids and query strings go to Next.
 */
async function serveVerification(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  url: string,
): Promise<boolean> {
  if (request.method !== "GET") return false;
  const match = url.match(apiVerifyPath);
  if (!match) return false;
  const tokenId = tokenIdSchema.safeParse(decodeURIComponent(match[1] ?? ""));
  if (!tokenId.success) return false;
  let verification = peek<Verification>(verificationKey(tokenId.data));
  if (!verification) {
    try {
      verification = await getVerification(tokenId.data);
    } catch (error) {
      // The route's own error answer: an unknown token is not looked up a second time in Next.
      await sendWebResponse(response, errorResponse(error));
      return true;
    }
  }
  const answer = verificationAnswer(verification, request.headers["if-none-match"]);
  metrics.fastPath.inc();
  response.writeHead(answer.status, { vary: NEXT_VARY, ...answer.headers, ...securityHeaders.api });
  response.end(answer.body ?? undefined);
  return true;
}

function measure(request: http.IncomingMessage, response: http.ServerResponse, pathname: string): void {
  const start = process.hrtime.bigint();
  response.once("finish", () => {
    const status = response.statusCode;
    const labels = { route: routeLabel(pathname, status), method: request.method ?? "GET", status: String(status) };
    metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    if (status >= 500) metrics.errors.inc({ kind: "http_5xx" });
  });
}

async function sendWebResponse(response: http.ServerResponse, answer: Response): Promise<void> {
  const body = Buffer.from(await answer.arrayBuffer());
  response.writeHead(answer.status, { ...Object.fromEntries(answer.headers), vary: NEXT_VARY, ...securityHeaders.api });
  response.end(body);
}

const SEARCH_PATH = "/api/crop-batches/search";

/**
 * A search answered here as app/api/crop-batches/search/route.ts answers it (the same reading of the body, the same
 * cached page, the same errors), without a web Request and Response per call. A query string goes to Next.
 */
async function serveSearch(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  url: string,
): Promise<boolean> {
  if (request.method !== "POST" || url !== SEARCH_PATH) return false;
  metrics.gatewayRoutes.inc({ route: SEARCH_PATH });
  try {
    const body = await searchJson(await readIncomingJson(request, searchSchema));
    response.writeHead(200, { "content-type": "application/json", vary: NEXT_VARY, ...securityHeaders.api });
    response.end(body);
  } catch (error) {
    await sendWebResponse(response, errorResponse(error));
  }
  return true;
}

/** What the server answers itself before a request reaches Next, and what it adds to those Next answers. */
export function createGateway(handle: Handler): Handler {
  return async (request, response) => {
    const url = request.url ?? "/";
    if (malformedPath(url)) {
      response.writeHead(400, { "content-type": "application/json", ...securityHeaders.api }).end(badPath);
      return;
    }
    const pathname = url.split("?")[0] ?? "/";
    measure(request, response, pathname);
    if (pathname.startsWith("/api/") && !unlimited.has(pathname)) {
      try {
        await consumeRateLimit("ip", clientAddress(request));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        return sendError(response, error);
      }
    }
    if (await serveVerification(request, response, url)) return;
    if (await serveSearch(request, response, url)) return;
    if (await serveCspReport(request, response, url)) return;
    const verify = pathname.match(verifyPath);
    let verification: Verification | null | undefined;
    if (verify) {
      const tokenId = tokenIdSchema.safeParse(decodeURIComponent(verify[1] ?? ""));
      if (!tokenId.success) return sendPage(request, response, 400, badTokenPage);
      // getVerification is cached, so the page Next renders next reuses this lookup.
      verification = await lookUp(tokenId.data);
      if (verification === null) return sendPage(request, response, 404, unknownTokenPage);
    }
    const digitalLink = pathname.match(digitalLinkPath);
    if (digitalLink) {
      // A failed lookup is not an unknown batch: Next renders the page and reports what went wrong.
      const tokenId = await findTokenByGs1(digitalLink[1] ?? "", decodeURIComponent(digitalLink[2] ?? "")).catch(
        () => undefined,
      );
      if (tokenId === null) return sendPage(request, response, 404, unknownTokenPage);
      // The page shows this token's verification: its tags let a CDN purge the page with it.
      if (tokenId !== undefined) verification = await lookUp(tokenId);
    }
    if (verify || digitalLink) publicCache(response, verification ?? undefined);
    setRequestHeader(request, CLIENT_ADDRESS_HEADER, clientAddress(request));
    securityHeaders.secureNextAnswer(request, response, pathname);
    await handle(request, response);
  };
}
