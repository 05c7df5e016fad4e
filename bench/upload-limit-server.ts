import { open } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { FileStore } from "@tus/file-store";
import { Server } from "@tus/server";

// The limit for uploads: bare @tus/server with @tus/file-store on node:http, the same protocol and ids as
// GreenLedger's upload lane (the upload is named by its `attachmentId` metadata), and nothing else: no sign-in, no
// database, no type sniffing. With LIMIT_SYNC=1 a finished upload is also fsynced before its answer, as GreenLedger
// makes it durable before calling it received.
const directory = process.env.LIMIT_DIR ?? "";
const sync = process.env.LIMIT_SYNC === "1";
const datastore = new FileStore({ directory });

const tus = new Server({
  path: "/api/uploads",
  datastore,
  relativeLocation: true,
  namingFunction: (_request, metadata) => metadata?.attachmentId ?? "",
  onUploadFinish: async (_request, upload) => {
    if (sync) {
      const handle = await open(path.join(directory, upload.id), "r");
      await handle.sync().finally(() => handle.close());
    }
    return {};
  },
});

http
  .createServer((request, response) => {
    if (request.url === "/ready") return void response.writeHead(200).end();
    void tus.handle(request, response);
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
