import http from "node:http";
import { DATABASE_RETRY_AFTER_SECONDS } from "@/lib/api/database-unavailable";
import { ApiError } from "@/lib/api/errors";
import { getReadiness } from "@/lib/health/readiness";
import { securityHeaders } from "@/lib/http/security-headers";

export const READY_PATH = "/api/ready";

const notReady = {
  draining: "This instance is shutting down; send requests to another one.",
  database_down: "This instance cannot reach its database.",
} as const;

/** `GET /api/ready` for load balancers and orchestrators: 200 while this instance can serve, else 503. */
export async function serveReady(response: http.ServerResponse): Promise<void> {
  const readiness = await getReadiness();
  const headers = { "content-type": "application/json", "cache-control": "no-store", ...securityHeaders.api };
  if (readiness.ready) {
    response.writeHead(200, headers).end(JSON.stringify({ status: "ready" }));
    return;
  }
  const error = new ApiError("service_unavailable", notReady[readiness.reason]);
  response
    .writeHead(error.status, { ...headers, "retry-after": String(DATABASE_RETRY_AFTER_SECONDS) })
    .end(JSON.stringify(error.toBody()));
}

/** A worker's only HTTP: its readiness, for the orchestrator's probes. */
export function createProbeServer(): http.Server {
  return http.createServer((request, response) => {
    if (request.method === "GET" && request.url === READY_PATH) return void serveReady(response);
    response.writeHead(404, { "content-type": "application/json", ...securityHeaders.api });
    response.end(JSON.stringify(new ApiError("not_found", "A worker answers only GET /api/ready.").toBody()));
  });
}
