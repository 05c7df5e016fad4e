import http from "node:http";
import type { AddressInfo } from "node:net";
import { Transform } from "node:stream";

export type CountingProxy = {
  url: string;
  /**
   * Body bytes of requests under `countedPath` received from clients so far (what they sent, whether or not it
   * reached the server).
   */
  bodyBytes(): number;
  /** Requests received and not yet ended (answered, or cut off by either side). */
  openRequests(): number;
  close(): Promise<void>;
};

/** Passes chunks on no faster than `bytesPerSecond`, as a slow link would. */
function throttle(bytesPerSecond: number): Transform {
  let free = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const now = performance.now();
      const at = Math.max(now, free);
      free = at + (chunk.length / bytesPerSecond) * 1000;
      setTimeout(() => callback(null, chunk), at - now);
    },
  });
}

/**
 * An HTTP proxy in front of `target` that counts the request body bytes clients send under `countedPath` and passes
 * every request on at `bytesPerSecond`. A client that goes away mid-request cuts the request to the server off at the
 * same point.
 */
export async function countingProxy(
  target: string,
  countedPath: string,
  bytesPerSecond: number,
): Promise<CountingProxy> {
  let bodyBytes = 0;
  let open = 0;
  const server = http.createServer((request, response) => {
    open += 1;
    response.once("close", () => {
      open -= 1;
    });
    const upstream = http.request(new URL(request.url ?? "/", target), {
      method: request.method,
      headers: request.headers,
    });
    upstream.on("response", (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on("error", () => response.destroy());
    if (request.url?.startsWith(countedPath)) {
      request.on("data", (chunk: Buffer) => {
        bodyBytes += chunk.length;
      });
    }
    request.on("close", () => {
      if (!request.complete) upstream.destroy();
    });
    request.pipe(throttle(bytesPerSecond)).pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodyBytes: () => bodyBytes,
    openRequests: () => open,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
