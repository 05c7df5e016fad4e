import type http from "node:http";
import { ApiError } from "@/lib/api/errors";
import { CSP_REPORT_PATH, securityHeaders } from "@/lib/http/security-headers";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics/metrics";

const MAX_REPORT_BYTES = 16 * 1024;
// The label comes from the report, which anyone can send: only directive names, so it cannot grow the metric.
const DIRECTIVES = new Set([
  "default-src",
  "script-src",
  "script-src-elem",
  "script-src-attr",
  "style-src",
  "style-src-elem",
  "style-src-attr",
  "img-src",
  "font-src",
  "connect-src",
  "media-src",
  "frame-src",
  "child-src",
  "worker-src",
  "manifest-src",
  "object-src",
  "base-uri",
  "form-action",
  "frame-ancestors",
]);

type CspReport = { "csp-report"?: Record<string, unknown> };

const text = (value: unknown) => (typeof value === "string" ? value.slice(0, 300) : undefined);

function parse(body: Buffer): Record<string, unknown> | undefined {
  try {
    const report = (JSON.parse(body.toString("utf8")) as CspReport)["csp-report"];
    return report && typeof report === "object" ? report : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A browser's report of what the CSP blocked (`report-uri`), from a page or the service worker: logged and counted
 * in gl_csp_violations_total, so a page the policy breaks shows in production and fails the e2e suite.
 */
export async function serveCspReport(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  url: string,
): Promise<boolean> {
  if (request.method !== "POST" || url !== CSP_REPORT_PATH) return false;
  const declared = Number(request.headers["content-length"] ?? 0);
  const chunks: Buffer[] = [];
  let size = 0;
  // A chunked body past the limit is read to its end and dropped, so the connection stays usable.
  if (declared <= MAX_REPORT_BYTES) {
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= MAX_REPORT_BYTES) chunks.push(chunk);
    }
  }
  const report = declared > MAX_REPORT_BYTES || size > MAX_REPORT_BYTES ? undefined : parse(Buffer.concat(chunks));
  if (!report) {
    const error = new ApiError("bad_request", `Send one CSP report of at most ${MAX_REPORT_BYTES} bytes as JSON.`, [
      { path: "(body)", message: 'Expected {"csp-report": {...}}' },
    ]);
    // A declared oversized body is never read, so the connection cannot carry another request.
    const close = declared > MAX_REPORT_BYTES ? { connection: "close" } : {};
    response.writeHead(error.status, { "content-type": "application/json", ...close, ...securityHeaders.api });
    response.end(JSON.stringify(error.toBody()));
    return true;
  }
  const directive =
    (text(report["effective-directive"]) ?? text(report["violated-directive"]) ?? "").split(" ")[0] ?? "";
  metrics.cspViolations.inc({ directive: DIRECTIVES.has(directive) ? directive : "other" });
  log.warn(
    { directive, blocked: text(report["blocked-uri"]), document: text(report["document-uri"]) },
    "a browser reported a Content-Security-Policy violation",
  );
  response.writeHead(204, securityHeaders.api).end();
  return true;
}
