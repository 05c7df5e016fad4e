import type http from "node:http";
import { ApiError } from "@/lib/api/errors";
import { consumeHeldSlice, consumeRateLimit } from "@/lib/api/rate-limit";
import { readsFor } from "@/lib/db/replica";
import { env } from "@/lib/env.mjs";
import { isDraining } from "@/lib/health/readiness";
import { serveCspReport } from "@/lib/http/csp-reports";
import { liveTokenId, serveLive } from "@/lib/http/live-lane";
import { servePageCached } from "@/lib/http/page-cache";
import { servePage } from "@/lib/http/page-lane";
import { READY_PATH, serveReady } from "@/lib/http/ready-lane";
import { isSearch, SEARCH_PATH, serveSearch } from "@/lib/http/search-lane";
import { securityHeaders, setRequestHeader } from "@/lib/http/security-headers";
import { isUpload, serveUpload } from "@/lib/http/upload-lane";
import { answerCachedVerification, plainVerificationId, serveVerification } from "@/lib/http/verification-lane";
import { metrics } from "@/lib/metrics/metrics";
import { routeLabel } from "@/lib/metrics/route-label";
import { endRequestSpan, traceRequest } from "@/lib/observability/tracing/spans";
import { CLIENT_ADDRESS_HEADER } from "@/lib/scans/client-address";

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => Promise<void>;

// Next answers a path it cannot percent-decode with a plain-text 500; it is the caller's mistake.
function malformedPath(url: string): boolean {
  // Only a percent sign can make decoding fail.
  if (!url.includes("%")) return false;
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

function clientAddress(request: http.IncomingMessage): string {
  const forwarded = env.TRUST_PROXY ? request.headers["x-forwarded-for"] : undefined;
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim();
  return first || request.socket.remoteAddress || "";
}

function sendError(response: http.ServerResponse, error: ApiError): void {
  response.writeHead(error.status, { "content-type": "application/json", ...error.headers, ...securityHeaders.api });
  response.end(JSON.stringify(error.toBody()));
}

// Every /api/ call counts against the caller's address, except the probes an operator's tools make.
const unlimited = new Set(["/api/health", "/api/metrics"]);

// Answers not yet sent (the fast path's are sent in the turn they arrive): a drain makes them close their connection.
const answering = new Set<http.ServerResponse>();

/** Every answer still to be written closes its connection once sent; with isDraining(), so do all later ones. */
export function closeConnectionsAfterAnswers(): void {
  for (const response of answering) if (!response.headersSent) response.shouldKeepAlive = false;
}

function measure(request: http.IncomingMessage, response: http.ServerResponse, pathname: string, start: bigint): void {
  answering.add(response);
  response.once("close", () => answering.delete(response));
  response.once("finish", () => {
    const status = response.statusCode;
    const labels = { route: routeLabel(pathname, status), method: request.method ?? "GET", status: String(status) };
    metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    if (status >= 500) metrics.errors.inc({ kind: "http_5xx" });
  });
}

// Labels of the answers the fast path gives, made once.
const fastLabels = new Map(
  [200, 304].map((status) => [status, { route: "/api/verify/:id", method: "GET", status: String(status) }]),
);

/** What the server answers itself before a request reaches Next, and what it adds to those Next answers. */
export function createGateway(handle: Handler): (...args: Parameters<Handler>) => void | Promise<void> {
  async function route(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    url: string,
    start: bigint,
    counted: boolean,
  ): Promise<void> {
    if (malformedPath(url)) {
      response.writeHead(400, { "content-type": "application/json", ...securityHeaders.api }).end(badPath);
      return;
    }
    const pathname = url.split("?")[0] ?? "/";
    const liveId = liveTokenId(request.method, pathname);
    // A stream lasts as long as its watcher stays: it is no request duration.
    if (liveId === undefined) measure(request, response, pathname, start);
    if (!counted && pathname.startsWith("/api/") && !unlimited.has(pathname)) {
      const address = clientAddress(request);
      try {
        // A slice held here is spent without an await; only taking a new one waits.
        if (!consumeHeldSlice(address)) await consumeRateLimit("ip", address);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        return sendError(response, error);
      }
    }
    if (liveId !== undefined) {
      // A stream's span ends once it is connected: it lasts as long as its watcher stays.
      return serveLive(request, response, liveId, clientAddress(request), sendError).finally(() =>
        endRequestSpan(response),
      );
    }
    if (isUpload(pathname)) return serveUpload(request, response, pathname);
    if (await serveVerification(request, response, url)) return;
    if (isSearch(request, url)) return serveSearch(request, response);
    if (await serveCspReport(request, response, url)) return;
    if (await servePage(request, response, pathname)) return;
    setRequestHeader(request, CLIENT_ADDRESS_HEADER, clientAddress(request));
    securityHeaders.secureNextAnswer(request, response, pathname);
    const render = () => {
      metrics.nextRequests.inc({ route: routeLabel(pathname, 200) });
      return readsFor(request.method, request.headers.cookie, () => handle(request, response));
    };
    if (await servePageCached(request, response, url, render)) return;
    await render();
  }

  function answer(request: http.IncomingMessage, response: http.ServerResponse): void | Promise<void> {
    const start = process.hrtime.bigint();
    const url = request.url ?? "/";
    // While draining, each answer closes its connection, so keep-alive clients move to another instance.
    if (isDraining()) response.shouldKeepAlive = false;
    if (url === READY_PATH && request.method === "GET") return serveReady(response);
    const tokenId = plainVerificationId(request, url);
    // A cached verification, from an address that still holds allowance here, is answered in this turn: no await,
    // no listener, nothing allocated but the answer.
    if (tokenId !== undefined && consumeHeldSlice(clientAddress(request))) {
      if (answerCachedVerification(request, response, tokenId)) {
        const labels = fastLabels.get(response.statusCode);
        if (labels) metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
        return;
      }
      return route(request, response, url, start, true);
    }
    // A search whose allowance is held here starts reading its body in this turn.
    if (isSearch(request, url) && consumeHeldSlice(clientAddress(request))) {
      measure(request, response, SEARCH_PATH, start);
      return serveSearch(request, response);
    }
    return route(request, response, url, start, false);
  }

  return (request, response) => traceRequest(request, response, answer);
}
