import http from "node:http";

export type SseEvent = { id?: string; event?: string; data?: string; retry?: number; arrivedAt?: number };

export type SseStream = {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The error body when the status is not 200. */
  body: string;
  events: SseEvent[];
  /** When each comment (a heartbeat) arrived, ms since the epoch. */
  comments: number[];
  /** Resolves once `count` events (not counting retry-only ones) have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<SseEvent[]>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
};

/** An EventSource's wire behaviour over a raw request, so a test sees every field, the retry hints included. */
export function openStream(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { accept: "text/event-stream", ...headers } }, (response) => {
      const events: SseEvent[] = [];
      const comments: number[] = [];
      const waiters: { count: number; resolve: () => void }[] = [];
      let buffer = "";
      let body = "";
      const messages = () => events.filter((event) => event.data !== undefined);
      const ended = new Promise<void>((done) => response.once("close", () => done()));
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        if (response.statusCode !== 200) {
          body += chunk;
          return;
        }
        buffer += chunk;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = {};
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) {
              comments.push(Date.now());
              continue;
            }
            const colon = line.indexOf(":");
            const field = line.slice(0, colon);
            const value = line.slice(colon + 1).trimStart();
            if (field === "retry") event.retry = Number(value);
            else if (field === "id" || field === "event" || field === "data") event[field] = value;
          }
          if (Object.keys(event).length) events.push({ ...event, arrivedAt: Date.now() });
          for (const waiter of waiters.filter((one) => messages().length >= one.count)) waiter.resolve();
          end = buffer.indexOf("\n\n");
        }
      });
      const opened = () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          get body() {
            return body;
          },
          events,
          comments,
          waitFor(count, timeoutMs = 5_000) {
            if (messages().length >= count) return Promise.resolve(messages());
            return new Promise((done, fail) => {
              const timer = setTimeout(
                () => fail(new Error(`${messages().length} of ${count} events within ${timeoutMs} ms`)),
                timeoutMs,
              );
              waiters.push({
                count,
                resolve: () => {
                  clearTimeout(timer);
                  done(messages());
                },
              });
            });
          },
          ended,
          close: () => request.destroy(),
        });
      if (response.statusCode === 200) opened();
      else response.once("end", opened);
    });
    request.on("error", reject);
  });
}
