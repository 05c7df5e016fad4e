import http from "node:http";

// The load generator's ceiling for uploads: node:http reading each body and throwing it away, answering as tus would
// (201 with the upload's URL to a POST, 204 to a PATCH, the bytes read as Upload-Offset), so the clients and loopback,
// not this server, are what runs out first.
const ID = /attachmentId ([A-Za-z0-9+/=]+)/;

http
  .createServer((request, response) => {
    if (request.url === "/ready") return void response.writeHead(200).end();
    let offset = 0;
    request.on("data", (chunk: Buffer) => {
      offset += chunk.length;
    });
    request.on("end", () => {
      const headers = { "tus-resumable": "1.0.0", "upload-offset": String(offset) };
      if (request.method === "PATCH") return void response.writeHead(204, headers).end();
      const id = Buffer.from(String(request.headers["upload-metadata"]).match(ID)?.[1] ?? "", "base64").toString();
      response.writeHead(201, { ...headers, location: `/api/uploads/${id}` }).end();
    });
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
