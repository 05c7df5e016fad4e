import type http from "node:http";
import { pipeline } from "node:stream/promises";
import { Server } from "@tus/server";
import { ApiError, type ErrorCode } from "@/lib/api/errors";
import { errorResponse } from "@/lib/api/handler";
import { FILES_PATH, UPLOAD_PATH } from "@/lib/attachments/attachment-dto";
import { contentStore } from "@/lib/attachments/content-store";
import { MAX_BYTES } from "@/lib/attachments/limits";
import { authorizeUpload, finishUpload, receivedSize, trackReceiving } from "@/lib/attachments/receive-upload";
import { attachmentIdSchema } from "@/lib/attachments/schema";
import { isStoredFileServed } from "@/lib/attachments/stored-file";
import { uploadStore } from "@/lib/attachments/upload-store";
import { env } from "@/lib/env.mjs";
import { sendWebResponse } from "@/lib/http/answer";
import { securityHeaders } from "@/lib/http/security-headers";
import { metrics } from "@/lib/metrics/metrics";

const FILE_PATH = /^\/api\/files\/([0-9a-f]{64})\.(jpg|webp|pdf)$/;
const MEDIA_TYPES = { jpg: "image/jpeg", webp: "image/webp", pdf: "application/pdf" } as const;
const TUS_METHODS = new Set(["POST", "PATCH", "HEAD", "DELETE", "OPTIONS"]);

const CODES: Record<number, ErrorCode> = {
  400: "bad_request",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  410: "not_found",
  413: "payload_too_large",
  415: "unsupported_media_type",
};

type TusError = { status_code: number; body: string };

// tus answers its own protocol errors in plain text; they are put into the one error shape like every other answer.
async function toTusError(error: unknown): Promise<TusError> {
  const tus = error as Partial<TusError>;
  const known =
    error instanceof ApiError
      ? error
      : typeof tus.status_code === "number" && CODES[tus.status_code]
        ? new ApiError(CODES[tus.status_code] as ErrorCode, String(tus.body ?? "").trim() || "The upload was refused.")
        : null;
  if (known) return { status_code: known.status, body: JSON.stringify(known.toBody()) };
  const answer = errorResponse(error);
  return { status_code: answer.status, body: await answer.text() };
}

const tus = new Server({
  path: UPLOAD_PATH,
  datastore: uploadStore,
  relativeLocation: true,
  respectForwardedHeaders: env.TRUST_PROXY,
  maxSize: Math.max(...Object.values(MAX_BYTES)),
  // The upload's id is the attachment's: one upload per declared file, resumable at a URL the phone can rebuild.
  namingFunction: (_request, metadata) => {
    const id = attachmentIdSchema.safeParse(metadata?.attachmentId);
    if (!id.success) {
      throw new ApiError("bad_request", "Upload-Metadata must carry the declared attachment's id.", [
        { path: "(upload-metadata).attachmentId", message: "Expected the attachment's UUID" },
      ]);
    }
    return id.data;
  },
  onIncomingRequest: (request, id) =>
    authorizeUpload(request.headers.get("cookie"), request.method, id, request.headers.get("upload-length")),
  onUploadFinish: async (_request, upload) => {
    await finishUpload(upload.id);
    return {};
  },
  onResponseError: (_request, error) => toTusError(error),
});

/** True for the paths this lane answers. */
export function isUpload(pathname: string): boolean {
  return pathname === UPLOAD_PATH || pathname.startsWith(`${UPLOAD_PATH}/`) || pathname.startsWith(`${FILES_PATH}/`);
}

function refuse(response: http.ServerResponse, error: ApiError): Promise<void> {
  return sendWebResponse(response, errorResponse(error));
}

/** A stored file by its SHA-256: the same bytes forever, so any cache may keep them. */
async function serveFile(request: http.IncomingMessage, response: http.ServerResponse, pathname: string) {
  const match = pathname.match(FILE_PATH);
  if (request.method !== "GET" && request.method !== "HEAD") {
    return refuse(response, new ApiError("method_not_allowed", "Files are only read here."));
  }
  const sha256 = match?.[1];
  const extension = match?.[2] as keyof typeof MEDIA_TYPES | undefined;
  const file = sha256 && extension && (await isStoredFileServed(sha256)) ? await contentStore.get(sha256) : null;
  if (!file || !sha256 || !extension) return refuse(response, new ApiError("not_found", "There is no such file."));
  const etag = `"${sha256}"`;
  const headers = {
    ...securityHeaders.api,
    "content-type": MEDIA_TYPES[extension],
    "cache-control": "public, max-age=31536000, immutable",
    etag,
    // A certificate is downloaded, never shown in this origin's pages.
    "content-disposition":
      extension === "pdf" ? `attachment; filename="certificate-${sha256.slice(0, 12)}.pdf"` : "inline",
  };
  if (request.headers["if-none-match"] === etag) {
    response.writeHead(304, headers).end();
    return;
  }
  response.writeHead(200, { ...headers, "content-length": String(file.size) });
  if (request.method === "HEAD") return void response.end();
  await pipeline(await file.stream(), response).catch(() => response.destroy());
}

// A phone that lost the last PATCH's answer asks where its upload stands. Once received, the bytes may already have
// left the upload store: the answer is "all of it", so any tus client finishes instead of starting over or failing.
async function answerReceived(request: http.IncomingMessage, response: http.ServerResponse, pathname: string) {
  const id = attachmentIdSchema.safeParse(pathname.slice(UPLOAD_PATH.length + 1));
  const size = id.success ? await receivedSize(request.headers.cookie ?? null, id.data) : undefined;
  if (size === undefined) return false;
  response.writeHead(200, {
    "tus-resumable": "1.0.0",
    "upload-offset": String(size),
    "upload-length": String(size),
    "cache-control": "no-store",
  });
  response.end();
  return true;
}

/** tus 1.0 uploads of declared attachments, and the stored files of ready ones. */
export async function serveUpload(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  pathname: string,
): Promise<void> {
  metrics.gatewayRoutes.inc({ route: pathname.startsWith(FILES_PATH) ? FILES_PATH : UPLOAD_PATH });
  if (pathname.startsWith(`${FILES_PATH}/`)) return serveFile(request, response, pathname);
  if (!TUS_METHODS.has(request.method ?? "")) {
    return refuse(response, new ApiError("method_not_allowed", "Uploads are sent with tus 1.0 (POST, PATCH, HEAD)."));
  }
  for (const [name, value] of Object.entries(securityHeaders.api)) response.setHeader(name, value);
  if (request.method === "HEAD" && (await answerReceived(request, response, pathname))) return;
  if (request.method === "POST" || request.method === "PATCH") trackReceiving(response);
  response.setHeader("content-type", "application/json");
  await tus.handle(request, response);
}
