import { readFileSync } from "node:fs";
import http from "node:http";

// The limit: node:http answering recorded bodies from memory, with nothing else in the process.
const bodies = JSON.parse(readFileSync(process.env.LIMIT_BODIES ?? "", "utf8")) as { verify: string; search: string };
const verify = Buffer.from(bodies.verify);
const search = Buffer.from(bodies.search);

function send(response: http.ServerResponse, body: Buffer): void {
  response.writeHead(200, { "content-type": "application/json", "content-length": body.length });
  response.end(body);
}

http
  .createServer((request, response) => {
    if (request.method === "GET" && request.url?.startsWith("/api/verify/")) return send(response, verify);
    if (request.method === "POST" && request.url === "/api/crop-batches/search") {
      request.resume();
      request.on("end", () => send(response, search));
      return;
    }
    response.writeHead(404).end();
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
