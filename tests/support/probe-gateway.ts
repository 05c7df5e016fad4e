import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { expect } from "vitest";
import { createGateway } from "@/lib/http/gateway";

/** What an Alertmanager-style webhook receives, as far as the tests read it. */
export type WebhookPayload = {
  status: string;
  alerts: { status: string; labels: Record<string, string>; endsAt: string }[];
};

export type ProbeGateway = {
  /** Everything POSTed to `webhookUrl`, in order. */
  posted: WebhookPayload[];
  webhookUrl: string;
  /** `count` requests to the probe route, 50 at a time, each answered 200. */
  send(count: number, slow: boolean): Promise<void>;
  close(): Promise<void>;
};

const listen = (server: http.Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );

/**
 * The real gateway in front of a stand-in for Next: one API route at `path` that answers after `fastMs`, or after
 * `slowMs` when asked `?slow`, so the gateway's own histograms see known latencies; and a webhook receiver.
 */
export async function startProbeGateway(path: string, latency: { fastMs: number; slowMs: number }) {
  const posted: WebhookPayload[] = [];
  const receiver = http.createServer(async (request, response) => {
    posted.push(JSON.parse(Buffer.concat(await request.toArray()).toString()));
    response.writeHead(200).end();
  });
  const gateway = http.createServer(
    createGateway(async (request, response) => {
      const url = new URL(request.url ?? "/", "http://localhost");
      if (url.pathname !== path) {
        response.writeHead(404).end();
        return;
      }
      const ms = url.searchParams.has("slow") ? latency.slowMs : latency.fastMs;
      if (ms > 0) await delay(ms);
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    }),
  );
  const [receiverPort, gatewayPort] = await Promise.all([listen(receiver), listen(gateway)]);
  const base = `http://127.0.0.1:${gatewayPort}`;
  return {
    posted,
    webhookUrl: `http://127.0.0.1:${receiverPort}/alerts`,
    async send(count, slow) {
      const target = base + (slow ? `${path}?slow` : path);
      for (let sent = 0; sent < count; sent += 50) {
        const batch = Array.from({ length: Math.min(50, count - sent) }, () => fetch(target));
        for (const response of await Promise.all(batch)) {
          expect(response.status).toBe(200);
          await response.body?.cancel();
        }
      }
    },
    async close() {
      await Promise.all([gateway, receiver].map((server) => new Promise((resolve) => server.close(resolve))));
    },
  } satisfies ProbeGateway;
}
