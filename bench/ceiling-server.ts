import { readFileSync } from "node:fs";
import net from "node:net";
import { type RecordedAnswers, wireBytes } from "@/bench/recorded";

// The load generator's ceiling: the same answers' bytes written straight to the socket, with no HTTP parsing beyond
// finding where each request ends, so the generator and not this server is what runs out first.
const answers = JSON.parse(readFileSync(process.env.LIMIT_ANSWERS ?? "", "utf8")) as RecordedAnswers;
const verify = wireBytes(answers.verify);
const search = wireBytes(answers.search);
const HEAD_END = Buffer.from("\r\n\r\n");
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

net
  .createServer((socket) => {
    let pending: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        const headEnd = pending.indexOf(HEAD_END);
        if (headEnd < 0) return;
        const head = pending.toString("latin1", 0, headEnd);
        const end = headEnd + 4 + Number(head.match(CONTENT_LENGTH)?.[1] ?? 0);
        if (pending.length < end) return;
        socket.write(head.startsWith("POST") ? search : verify);
        pending = pending.subarray(end);
      }
    });
    socket.on("error", () => socket.destroy());
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
