import type { Attachment } from "@/lib/generated/prisma/client";

export const UPLOAD_PATH = "/api/uploads";
export const FILES_PATH = "/api/files";

const EXTENSIONS: Record<string, string> = {
  "image/jpeg": "jpg",
  "image/webp": "webp",
  "application/pdf": "pdf",
};

export function fileUrl(sha256: string, mediaType: string): string {
  return `${FILES_PATH}/${sha256}.${EXTENSIONS[mediaType] ?? "bin"}`;
}

const isoDay = (date: Date | null) => date?.toISOString().slice(0, 10) ?? null;

export type CertificateDto = {
  issuer: string;
  number: string;
  scope: string;
  validFrom: string;
  validUntil: string;
};

export type AttachmentDto = {
  id: string;
  tokenId: number;
  kind: "photo" | "certificate";
  status: "declared" | "uploading" | "received" | "ready" | "rejected" | "expired";
  /** Why it was rejected, in words the farmer can act on. */
  reason: string | null;
  fileName: string | null;
  size: number;
  /** Where the tus client sends (or resumes) the bytes, while they are still wanted. */
  uploadUrl: string | null;
  mediaType: string | null;
  sha256: string | null;
  fileUrl: string | null;
  thumbnailUrl: string | null;
  width: number | null;
  height: number | null;
  pages: number | null;
  /** clean, or skipped when no antivirus is configured. */
  virusScan: string | null;
  certificate: CertificateDto | null;
  createdAt: string;
};

export function toAttachmentDto(row: Attachment): AttachmentDto {
  const wanted = row.status === "declared" || row.status === "uploading";
  const ready = row.status === "ready" && row.sha256 && row.mediaType;
  return {
    id: row.id,
    tokenId: Number(row.tokenId),
    kind: row.kind,
    status: row.status,
    reason: row.reason,
    fileName: row.fileName,
    size: row.storedSize ?? row.declaredSize,
    uploadUrl: wanted ? `${UPLOAD_PATH}/${row.id}` : null,
    mediaType: row.mediaType,
    sha256: row.sha256,
    fileUrl: ready ? fileUrl(row.sha256 as string, row.mediaType as string) : null,
    thumbnailUrl: ready && row.thumbSha256 ? fileUrl(row.thumbSha256, "image/webp") : null,
    width: row.width,
    height: row.height,
    pages: row.pages,
    virusScan: row.virusScan,
    certificate:
      row.kind === "certificate" && row.certIssuer
        ? {
            issuer: row.certIssuer,
            number: row.certNumber ?? "",
            scope: row.certScope ?? "",
            validFrom: isoDay(row.validFrom) ?? "",
            validUntil: isoDay(row.validUntil) ?? "",
          }
        : null,
    createdAt: row.createdAt.toISOString(),
  };
}
