import { appendFileSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as tus from "tus-js-client";

/**
 * A farmer's phone as its own process, so a test can SIGKILL it mid-upload and start it again: what it must remember
 * (the declaration, and the upload URL once the server gave one) lives in an outbox file, written before it is
 * relied on. Every answer it gets is appended to `<outbox>.log` as a JSON line. Usage: <outbox.json>.
 * Exits 0 once the server has the whole file (the attachment is `received` or `ready`), 1 otherwise.
 */

export type Declaration = {
  id: string;
  kind: "photo" | "certificate";
  type: string;
  size: number;
  fileName?: string;
  certificate?: { issuer: string; number: string; scope: string; validFrom: string; validUntil: string };
};

export type Outbox = {
  /** Where the phone sends everything (the test's counting proxy). */
  baseUrl: string;
  cookie: string;
  tokenId: number;
  /** The file's bytes, as the phone keeps them until they are sent. */
  file: string;
  chunkSize: number;
  declaration: Declaration;
  /** Absolute, once declared. */
  uploadUrl?: string;
};

export type ClientLogLine =
  | { pid: number; event: "declared"; status: number; attachmentStatus: string }
  | { pid: number; event: "response"; method: string; url: string; status: number; uploadOffset: number | null }
  | { pid: number; event: "done"; attachmentStatus: string }
  | { pid: number; event: "failed"; message: string };

const outboxFile = process.argv[2] ?? "";
if (!outboxFile) throw new Error("usage: upload-client.ts <outbox.json>");
const logFile = `${outboxFile}.log`;
const record = (line: ClientLogLine) => appendFileSync(logFile, `${JSON.stringify(line)}\n`);

function save(outbox: Outbox): void {
  // Whole or not at all: a kill while writing leaves the previous outbox.
  writeFileSync(`${outboxFile}.tmp`, JSON.stringify(outbox));
  renameSync(`${outboxFile}.tmp`, outboxFile);
}

async function declare(outbox: Outbox): Promise<{ status: string; uploadUrl: string | null }> {
  const response = await fetch(`${outbox.baseUrl}/api/crop-batches/${outbox.tokenId}/attachments`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: outbox.cookie },
    body: JSON.stringify(outbox.declaration),
  });
  const body = (await response.json()) as { status: string; uploadUrl: string | null };
  record({ pid: process.pid, event: "declared", status: response.status, attachmentStatus: body.status });
  if (response.status !== 200 && response.status !== 201) throw new Error(`declaring answered ${response.status}`);
  return body;
}

function send(outbox: Outbox, uploadUrl: string): Promise<void> {
  const bytes = readFileSync(outbox.file);
  return new Promise((resolve, reject) => {
    new tus.Upload(bytes, {
      endpoint: `${outbox.baseUrl}/api/uploads`,
      uploadUrl,
      chunkSize: outbox.chunkSize,
      metadata: { attachmentId: outbox.declaration.id },
      headers: { cookie: outbox.cookie },
      retryDelays: [100, 250, 500, 1000],
      onAfterResponse: (request, response) => {
        const offset = response.getHeader("upload-offset");
        record({
          pid: process.pid,
          event: "response",
          method: request.getMethod(),
          url: request.getURL(),
          status: response.getStatus(),
          uploadOffset: offset === undefined ? null : Number(offset),
        });
      },
      onSuccess: () => resolve(),
      onError: reject,
    }).start();
  });
}

const outbox = JSON.parse(readFileSync(outboxFile, "utf8")) as Outbox;
try {
  if (!outbox.uploadUrl) {
    const declared = await declare(outbox);
    if (declared.uploadUrl) {
      outbox.uploadUrl = new URL(declared.uploadUrl, outbox.baseUrl).href;
      save(outbox);
    }
  }
  if (outbox.uploadUrl) await send(outbox, outbox.uploadUrl);
  // Declaring again is how the phone learns what became of the file (and finishes one whose last answer was lost).
  const { status } = await declare(outbox);
  if (status !== "received" && status !== "ready") throw new Error(`the attachment is ${status} after its upload`);
  record({ pid: process.pid, event: "done", attachmentStatus: status });
} catch (error) {
  record({ pid: process.pid, event: "failed", message: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
}
