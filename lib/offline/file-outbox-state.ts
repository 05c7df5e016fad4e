import type { AttachmentDto, CertificateDto } from "@/lib/attachments/attachment-dto";
import { ACCEPTED_TYPES, MAX_BYTES } from "@/lib/attachments/limits";
import { type Attempted, classifyFailure, type Outcome } from "./outbox-state";

export type FileKind = AttachmentDto["kind"];

/** A photo (already downscaled) or certificate the farmer picked, before it is kept on the phone. */
export type CapturedFile = {
  kind: FileKind;
  type: string;
  fileName: string;
  bytes: ArrayBuffer;
  certificate: CertificateDto | null;
};

/**
 * One photo or certificate waiting on the phone. Its `id` is the attachment's client id, fixed when it is kept, so
 * every retry declares and uploads the same attachment. Its bytes are kept apart (lists stay light), as an ArrayBuffer:
 * WebKit cannot store Blobs in IndexedDB.
 */
export type PendingFile = Attempted & {
  id: string;
  kind: FileKind;
  type: string;
  size: number;
  fileName: string;
  certificate: CertificateDto | null;
  /** Null while its batch waits in the outbox (`batchClientId`); set once that batch reaches the ledger. */
  tokenId: number | null;
  batchClientId: string | null;
  savedAt: number;
  /** Bytes the server had confirmed at the last finished chunk: the bar shows it until the upload resumes. */
  sentBytes: number;
};

export type FileTarget = { tokenId: number } | { batchClientId: string };

/** The next step after the declaration: send the bytes (resuming if an upload was started) or ask where it stands. */
export type FileStep = Outcome | { kind: "upload"; uploadUrl: string; resume: boolean } | { kind: "check" };

const MIB = 1024 * 1024;
const CERTIFICATE_LIMITS = { issuer: 160, number: 80, scope: 300 } as const;
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

export function newPendingFile(file: CapturedFile, target: FileTarget, now: number, uuid: () => string): PendingFile {
  return {
    id: uuid(),
    kind: file.kind,
    type: file.type,
    size: file.bytes.byteLength,
    fileName: file.fileName,
    certificate: file.certificate,
    tokenId: "tokenId" in target ? target.tokenId : null,
    batchClientId: "batchClientId" in target ? target.batchClientId : null,
    savedAt: now,
    status: "pending",
    attempts: 0,
    nextAttemptAt: now,
    lastError: null,
    sentBytes: 0,
  };
}

/** A file waits for its batch's token id: until then there is nothing to attach it to. */
export function isFileDue(file: PendingFile, now: number, ignoreBackoff = false): boolean {
  return file.tokenId !== null && file.status === "pending" && (ignoreBackoff || file.nextAttemptAt <= now);
}

/** The declaration the server gets, the same on every try. */
export function declaration(file: PendingFile) {
  const fileName = file.fileName.trim().slice(0, 255);
  return {
    id: file.id,
    kind: file.kind,
    type: file.type,
    size: file.size,
    ...(fileName ? { fileName } : {}),
    ...(file.kind === "certificate" && file.certificate ? { certificate: file.certificate } : {}),
  };
}

const rejected = (status: number | null, code: string, message: string): Outcome => ({
  kind: "rejected",
  error: { status, code, message },
});

/** What the server's view of an attachment means for the copy on the phone. */
export function fromAttachment(attachment: Pick<AttachmentDto, "status" | "reason" | "uploadUrl">): FileStep {
  switch (attachment.status) {
    case "received":
    case "ready":
      return { kind: "delivered" };
    case "rejected":
      return rejected(200, "rejected", attachment.reason ?? "The server refused this file.");
    case "expired":
      return rejected(200, "expired", "The server stopped waiting for this file's upload.");
    default:
      return attachment.uploadUrl
        ? { kind: "upload", uploadUrl: attachment.uploadUrl, resume: attachment.status === "uploading" }
        : { kind: "retry", error: { status: 200, code: "unexpected_reply", message: "The reply had no upload URL." } };
  }
}

function isAttachment(body: unknown): body is AttachmentDto {
  const status = (body as { status?: unknown } | null)?.status;
  return typeof status === "string";
}

/** The answer to the declaration (POST) or to a status check (GET). */
export function classifyAttachmentReply(status: number, body: unknown): FileStep {
  if (status === 200 || status === 201) {
    if (isAttachment(body)) return fromAttachment(body);
    return { kind: "retry", error: { status, code: "unexpected_reply", message: "The server's answer was not read." } };
  }
  return classifyFailure(status, body);
}

/** A tus request that failed; `status` null when no answer came. A 409: the bytes are there already, or refused. */
export function classifyUploadFailure(status: number | null, text: string, reason: string): FileStep {
  if (status === null || status === 0)
    return { kind: "retry", error: { status: null, code: "network", message: reason } };
  if (status === 409) return { kind: "check" };
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {}
  return classifyFailure(status, body);
}

/** Why this file cannot be kept for sending, in the farmer's words; null when it can. */
export function captureProblem(kind: FileKind, type: string, size: number): string | null {
  const accepted: readonly string[] = ACCEPTED_TYPES[kind];
  if (!accepted.includes(type)) {
    return kind === "photo" ? "This phone could not turn it into a JPEG photo." : "A certificate must be a PDF file.";
  }
  if (size > MAX_BYTES[kind]) return `It is larger than ${MAX_BYTES[kind] / MIB} MB.`;
  if (size === 0) return "The file is empty.";
  return null;
}

/** The server's own rules for a certificate's details, checked before it is kept (the server checks them again). */
export function certificateProblems(draft: CertificateDto): Partial<Record<keyof CertificateDto, string>> {
  const problems: Partial<Record<keyof CertificateDto, string>> = {};
  for (const field of ["issuer", "number", "scope"] as const) {
    const value = draft[field].trim();
    if (!value) problems[field] = "Required";
    else if (value.length > CERTIFICATE_LIMITS[field])
      problems[field] = `At most ${CERTIFICATE_LIMITS[field]} characters`;
  }
  for (const field of ["validFrom", "validUntil"] as const) {
    const day = draft[field];
    if (!ISO_DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)) || day < "1900-01-01") {
      problems[field] = "Enter a date";
    }
  }
  if (!problems.validFrom && !problems.validUntil && draft.validUntil < draft.validFrom) {
    problems.validUntil = "Must be on or after the start date";
  }
  return problems;
}

export function trimCertificate(draft: CertificateDto): CertificateDto {
  return {
    issuer: draft.issuer.trim(),
    number: draft.number.trim(),
    scope: draft.scope.trim(),
    validFrom: draft.validFrom,
    validUntil: draft.validUntil,
  };
}
