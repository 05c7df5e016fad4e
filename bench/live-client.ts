import http from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";

/**
 * One of the live benchmark's client processes (forked by bench/live.ts): holds its share of the SSE watchers from
 * one loopback source address and measures, per connection, what a watcher would notice: delivery lag, offsets
 * skipped or repeated, streams that ended. Driven over IPC: open -> measure -> report -> close.
 */

export type Target = { port: number; path: string; cookie: string; tokenId: number };

export type ClientCommand =
  | { type: "open"; targets: Target[]; localAddress: string; concurrency: number }
  | { type: "measure" }
  | { type: "report" }
  | { type: "close" };

export type ClientReport = {
  /** Deliveries per lag in whole ms (index), the last bucket holding everything from its value on. */
  lagMs: number[];
  deliveries: number;
  /** Offsets a connection never got between two it did, and offsets it got twice or out of order. */
  skipped: number;
  repeated: number;
  /** Streams that ended or failed while they were meant to stay open. */
  disconnects: number;
  /** Per open connection: its batch and the last offset it got (0: none). */
  last: [number, number][];
  /** This process's own event-loop delay over the measured window, ms. */
  loopDelayP99: number;
  loopDelayMax: number;
};

export type ClientMessage =
  | { type: "opened"; ok: number; failed: Record<string, number> }
  | { type: "report"; report: ClientReport };

const LAG_BUCKETS = 10_000;

type Connection = { target: Target; lastId: number; opened: boolean; request?: http.ClientRequest; buffer: string };

const connections: Connection[] = [];
let closing = false;
let lagMs = new Array<number>(LAG_BUCKETS + 1).fill(0);
let deliveries = 0;
let skipped = 0;
let repeated = 0;
let disconnects = 0;
let measuring = false;
const loopDelay = monitorEventLoopDelay({ resolution: 1 });

function send(message: ClientMessage): void {
  process.send?.(message);
}

function onBlock(connection: Connection, block: string, arrivedAt: number): void {
  let id = 0;
  let data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("id: ")) id = Number(line.slice(4));
    else if (line.startsWith("data: ")) data = line.slice(6);
  }
  if (!id) return;
  if (connection.lastId && id !== connection.lastId + 1) {
    if (id > connection.lastId) skipped += id - connection.lastId - 1;
    else repeated += 1;
  }
  connection.lastId = Math.max(connection.lastId, id);
  if (!measuring) return;
  const at = Date.parse((JSON.parse(data) as { receivedAt: string }).receivedAt);
  const bucket = Math.min(LAG_BUCKETS, Math.max(0, arrivedAt - at));
  lagMs[bucket] = (lagMs[bucket] ?? 0) + 1;
  deliveries += 1;
}

function open(connection: Connection, localAddress: string): Promise<number | string> {
  return new Promise((resolve) => {
    const { target } = connection;
    const request = http.get(
      {
        host: "127.0.0.1",
        port: target.port,
        path: target.path,
        localAddress,
        agent: false,
        headers: { accept: "text/event-stream", cookie: target.cookie },
      },
      (response) => {
        request.setTimeout(0);
        resolve(response.statusCode ?? 0);
        if (response.statusCode !== 200) {
          response.resume();
          return;
        }
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          const arrivedAt = Date.now();
          connection.buffer += chunk;
          let end = connection.buffer.indexOf("\n\n");
          while (end >= 0) {
            onBlock(connection, connection.buffer.slice(0, end), arrivedAt);
            connection.buffer = connection.buffer.slice(end + 2);
            end = connection.buffer.indexOf("\n\n");
          }
        });
        response.once("close", () => {
          if (!closing) disconnects += 1;
        });
      },
    );
    connection.request = request;
    request.setTimeout(30_000, () => request.destroy(new Error("no answer within 30 s")));
    request.once("error", (error) => resolve(`error ${(error as NodeJS.ErrnoException).code ?? error.message}`));
  });
}

async function openAll(targets: Target[], localAddress: string, concurrency: number): Promise<void> {
  const failed: Record<string, number> = {};
  let ok = 0;
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const connection: Connection = { target: targets[next++] as Target, lastId: 0, opened: false, buffer: "" };
      connections.push(connection);
      const status = await open(connection, localAddress);
      connection.opened = status === 200;
      if (connection.opened) ok += 1;
      else failed[String(status)] = (failed[String(status)] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  send({ type: "opened", ok, failed });
}

process.on("message", (command: ClientCommand) => {
  if (command.type === "open") void openAll(command.targets, command.localAddress, command.concurrency);
  else if (command.type === "measure") {
    lagMs = new Array<number>(LAG_BUCKETS + 1).fill(0);
    deliveries = 0;
    measuring = true;
    loopDelay.reset();
    loopDelay.enable();
  } else if (command.type === "report") {
    measuring = false;
    loopDelay.disable();
    send({
      type: "report",
      report: {
        lagMs,
        deliveries,
        skipped,
        repeated,
        disconnects,
        last: connections
          .filter((connection) => connection.opened)
          .map((connection) => [connection.target.tokenId, connection.lastId]),
        loopDelayP99: loopDelay.percentile(99) / 1e6,
        loopDelayMax: loopDelay.max / 1e6,
      },
    });
  } else {
    closing = true;
    for (const connection of connections) connection.request?.destroy();
    process.disconnect?.();
  }
});
