import type { DetailedError } from "tus-js-client";
import { listPendingFiles, readFileBytes, recordFileAttempt, recordFileProgress } from "./file-outbox";
import {
  classifyAttachmentReply,
  classifyUploadFailure,
  declaration,
  type FileStep,
  isFileDue,
  type PendingFile,
} from "./file-outbox-state";
import { afterAttempt, networkFailure, type Outcome } from "./outbox-state";
import { FROM_CACHE_HEADER } from "./worker-messages";

/** Web Locks name: one tab sends files at a time (apart from the batches' lock: a long upload must not hold them). */
const FILES_LOCK = "greenledger-file-sync";
const UPLOADS = "/api/uploads";
// A dropped connection loses at most one chunk; a downscaled photo takes one or two.
const CHUNK_BYTES = 256 * 1024;
const REQUEST_TIMEOUT_MS = 20_000;
// tus-js-client has no timeout: an upload that stops moving is aborted, so it cannot hold the lock forever.
const STALL_MS = 30_000;

type ProgressListener = (id: string, sentBytes: number) => void;
type FileReplayResult = { delivered: PendingFile[]; signedOut: boolean };

async function call(url: string, init: RequestInit): Promise<FileStep> {
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      credentials: "same-origin",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    return networkFailure(error instanceof Error ? error.message : "The request failed.", timedOut);
  }
  // The worker answers a slow GET from its cache: an old status says nothing about where the file stands now.
  if (response.headers.has(FROM_CACHE_HEADER)) return networkFailure("The server did not answer in time.", true);
  return classifyAttachmentReply(response.status, await response.json().catch(() => null));
}

async function upload(
  file: PendingFile,
  bytes: ArrayBuffer,
  step: { uploadUrl: string; resume: boolean },
  onProgress: ProgressListener,
): Promise<FileStep> {
  const { Upload } = await import("tus-js-client");
  return new Promise((resolve) => {
    let stalled: ReturnType<typeof setTimeout> | undefined;
    const finish = (result: FileStep) => {
      clearTimeout(stalled);
      resolve(result);
    };
    const watch = () => {
      clearTimeout(stalled);
      stalled = setTimeout(() => {
        void tus.abort();
        finish(networkFailure("The upload stopped moving.", true));
      }, STALL_MS);
    };
    const tus = new Upload(new Blob([bytes], { type: file.type }), {
      endpoint: new URL(UPLOADS, self.location.origin).href,
      // An upload already started resumes at the server's offset (HEAD); one the server never created is created.
      uploadUrl: step.resume ? new URL(step.uploadUrl, self.location.origin).href : null,
      metadata: { attachmentId: file.id },
      uploadDataDuringCreation: true,
      chunkSize: CHUNK_BYTES,
      retryDelays: [0, 1_000, 3_000],
      // tus would retry a 409 too; here it means the server has the bytes already (or refused them).
      onShouldRetry: (error) => {
        const status = error.originalResponse?.getStatus() ?? 0;
        return (status === 0 || status === 423 || status >= 500) && navigator.onLine;
      },
      storeFingerprintForResuming: false,
      onProgress: (sent) => {
        watch();
        onProgress(file.id, sent);
      },
      onChunkComplete: (_size, accepted) => void recordFileProgress(file.id, accepted),
      onSuccess: () => finish({ kind: "check" }),
      onError: (error) => {
        const response = (error as DetailedError).originalResponse;
        finish(classifyUploadFailure(response?.getStatus() ?? null, response?.getBody() ?? "", error.message));
      },
    });
    watch();
    tus.start();
  });
}

/** Declare, send the bytes the server still wants, then ask where the file stands. Every step is safe to repeat. */
async function sendFile(file: PendingFile, onProgress: ProgressListener): Promise<Outcome> {
  let step = await call(`/api/crop-batches/${file.tokenId}/attachments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(declaration(file)),
  });
  if (step.kind === "upload") {
    const bytes = await readFileBytes(file.id);
    if (!bytes) {
      const message = "The file is no longer on this phone.";
      return { kind: "rejected", error: { status: null, code: "bytes_missing", message } };
    }
    step = await upload(file, bytes, step, onProgress);
  }
  if (step.kind === "check") step = await call(`/api/attachments/${file.id}`, {});
  if (step.kind === "upload" || step.kind === "check") {
    return { kind: "retry", error: { status: 200, code: "unexpected_reply", message: "The upload is not complete." } };
  }
  return step;
}

async function replayHoldingLock(ignoreBackoff: boolean, onProgress: ProgressListener): Promise<FileReplayResult> {
  const delivered: PendingFile[] = [];
  const tried = new Set<string>();
  for (;;) {
    const now = Date.now();
    const next = (await listPendingFiles()).find((file) => isFileDue(file, now, ignoreBackoff) && !tried.has(file.id));
    if (!next) break;
    tried.add(next.id);
    const outcome = await sendFile(next, onProgress);
    if (outcome.kind === "signed-out") return { delivered, signedOut: true };
    if (outcome.kind === "delivered") delivered.push(next);
    await recordFileAttempt(next, afterAttempt(next, outcome, Date.now(), Math.random()));
  }
  return { delivered, signedOut: false };
}

/**
 * Sends every due file once, oldest first, from the page (tus-js-client sends with XMLHttpRequest, which a service
 * worker lacks). The lock queues the page's triggers and other tabs, so a file is never uploading twice.
 */
export function replayFiles({
  ignoreBackoff = false,
  onProgress = () => {},
}: {
  ignoreBackoff?: boolean;
  onProgress?: ProgressListener;
} = {}): Promise<FileReplayResult> {
  if (!("locks" in navigator)) return replayHoldingLock(ignoreBackoff, onProgress);
  return navigator.locks.request(FILES_LOCK, () => replayHoldingLock(ignoreBackoff, onProgress));
}
