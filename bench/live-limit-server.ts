import http from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Redis } from "ioredis";

// The limit for live streams: bare node:http writing each batch's Redis messages to its streams as the same frames
// GreenLedger writes, and nothing else (no sign-in, access check, slots, catch-up or heartbeats). It answers the few
// metrics bench/live.ts reads, under GreenLedger's names.
const prefix = process.env.LIMIT_PREFIX ?? "";
const subscriber = new Redis(process.env.REDIS_URL ?? "");
const streams = new Map<string, Set<http.ServerResponse>>();
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
let open = 0;

subscriber.on("message", (channel: string, message: string) => {
  const first = message.indexOf(" ");
  const second = message.indexOf(" ", first + 1);
  const frame = Buffer.from(`id: ${message.slice(0, first)}\nevent: position\ndata: ${message.slice(second + 1)}\n\n`);
  for (const response of streams.get(channel) ?? []) response.write(frame);
});

function metrics(response: http.ServerResponse): void {
  const memory = process.memoryUsage();
  response
    .writeHead(200, { "content-type": "text/plain" })
    .end(
      [
        `gl_nodejs_heap_size_used_bytes ${memory.heapUsed}`,
        `gl_process_resident_memory_bytes ${memory.rss}`,
        `gl_live_streams ${open}`,
        `gl_live_slow_watchers_closed_total 0`,
        `gl_nodejs_eventloop_lag_p99_seconds ${loopDelay.percentile(99) / 1e9}`,
        "",
      ].join("\n"),
    );
}

http
  .createServer((request, response) => {
    if (request.url === "/api/metrics") return metrics(response);
    const tokenId = request.url?.match(/^\/api\/crop-batches\/(\d+)\/live$/)?.[1];
    if (!tokenId) {
      response.writeHead(404).end();
      return;
    }
    const channel = `${prefix}live:${tokenId}`;
    let watchers = streams.get(channel);
    if (!watchers) {
      watchers = new Set();
      streams.set(channel, watchers);
      void subscriber.subscribe(channel);
    }
    const set = watchers;
    set.add(response);
    open += 1;
    response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store" });
    response.write("retry: 2000\n\n");
    response.once("close", () => {
      set.delete(response);
      open -= 1;
    });
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
