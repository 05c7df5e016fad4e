import { readFileSync } from "node:fs";
import http from "node:http";
import type { Recorded, RecordedAnswers } from "@/bench/recorded";

// The limit: node:http answering GreenLedger's recorded answers (status, headers, body) from memory, with nothing
// else in the process. node:http adds the same date and keep-alive headers it adds to GreenLedger's answers.
const answers = JSON.parse(readFileSync(process.env.LIMIT_ANSWERS ?? "", "utf8")) as RecordedAnswers;

function replay(answer: Recorded) {
  const body = Buffer.from(answer.body, "base64");
  const headers = [...answer.headers, "Content-Length", String(body.length)];
  return (response: http.ServerResponse) => {
    response.writeHead(answer.status, headers);
    response.end(body);
  };
}

const verify = replay(answers.verify);
const search = replay(answers.search);

http
  .createServer((request, response) => {
    if (request.method === "GET" && request.url?.startsWith("/api/verify/")) return verify(response);
    if (request.method === "POST" && request.url === "/api/crop-batches/search") {
      request.resume();
      request.on("end", () => search(response));
      return;
    }
    response.writeHead(404).end();
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
