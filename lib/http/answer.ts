import type http from "node:http";
import { securityHeaders } from "@/lib/http/security-headers";

// What Next adds to every App Router answer; the e2e check compares both paths' headers, so a change shows there.
export const NEXT_VARY = "rsc, next-router-state-tree, next-router-prefetch, next-router-segment-prefetch";

const withVary = new WeakMap<Record<string, string>, Record<string, string>>();

/** A cached answer's headers with Next's Vary, built once per answer object instead of once per request. */
export function withNextVary(headers: Record<string, string>): Record<string, string> {
  let result = withVary.get(headers);
  if (!result) {
    result = { vary: NEXT_VARY, ...headers, ...securityHeaders.api };
    withVary.set(headers, result);
  }
  return result;
}

/** A web Response (a route's error answer) written to a node:http response, with Next's Vary. */
export async function sendWebResponse(response: http.ServerResponse, answer: Response): Promise<void> {
  const body = Buffer.from(await answer.arrayBuffer());
  response.writeHead(answer.status, { ...Object.fromEntries(answer.headers), vary: NEXT_VARY, ...securityHeaders.api });
  response.end(body);
}
