import http from "node:http";
import type { Request } from "@/bench/load";

/** One of GreenLedger's answers as it went over the wire: status, headers in order, body. */
export type Recorded = { status: number; headers: string[]; body: string };
export type RecordedAnswers = { verify: Recorded; search: Recorded };

// Framing the server writes per connection and moment; the replaying server adds its own.
const FRAMING = new Set(["date", "connection", "keep-alive", "transfer-encoding", "content-length"]);

/** Asks `base` once and keeps the answer's status, headers (all but framing and date) and body. */
export function record(base: string, request: Request): Promise<Recorded> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      `${base}${request.path}`,
      { method: request.method, headers: request.body ? { "content-type": "application/json" } : {} },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("end", () => {
          const headers: string[] = [];
          for (let index = 0; index < incoming.rawHeaders.length; index += 2) {
            const name = incoming.rawHeaders[index] as string;
            if (!FRAMING.has(name.toLowerCase())) headers.push(name, incoming.rawHeaders[index + 1] as string);
          }
          const status = incoming.statusCode ?? 0;
          const body = Buffer.concat(chunks).toString("base64");
          if (status !== 200) reject(new Error(`${request.path} answered ${status}`));
          else resolve({ status, headers, body });
        });
        incoming.on("error", reject);
      },
    );
    outgoing.on("error", reject);
    outgoing.end(request.body);
  });
}

/** The whole answer as bytes, with the framing a node:http server adds (keep-alive, a date, a length). */
export function wireBytes(answer: Recorded): Buffer {
  const body = Buffer.from(answer.body, "base64");
  const lines = [`HTTP/1.1 ${answer.status} ${http.STATUS_CODES[answer.status]}`];
  for (let index = 0; index < answer.headers.length; index += 2) {
    lines.push(`${answer.headers[index]}: ${answer.headers[index + 1]}`);
  }
  lines.push(`Date: ${new Date().toUTCString()}`, "Connection: keep-alive", "Keep-Alive: timeout=5");
  lines.push(`Content-Length: ${body.length}`, "", "");
  return Buffer.concat([Buffer.from(lines.join("\r\n"), "latin1"), body]);
}
