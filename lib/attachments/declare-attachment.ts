import "server-only";
import { ApiError } from "@/lib/api/errors";
import { type AttachmentDto, toAttachmentDto } from "@/lib/attachments/attachment-dto";
import { ACCEPTED_TYPES, MAX_BYTES } from "@/lib/attachments/limits";
import { finishUpload } from "@/lib/attachments/receive-upload";
import type { DeclareAttachmentInput } from "@/lib/attachments/schema";
import { uploadStore } from "@/lib/attachments/upload-store";
import { db } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";
import type { Attachment } from "@/lib/generated/prisma/client";
import type { UserDto } from "@/lib/users/sign-in-user";

const MIB = 1024 * 1024;
// Farms' quota checks queue behind this advisory lock (beside the lease keys 72707369-72707371), one farm at a time.
const QUOTA_LOCK = 72707372;

export type DeclareResult = { attachment: AttachmentDto; created: boolean };

const megabytes = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;

function checkCaps(input: DeclareAttachmentInput): void {
  const accepted: readonly string[] = ACCEPTED_TYPES[input.kind];
  if (!accepted.includes(input.type)) {
    throw new ApiError(
      "unsupported_media_type",
      input.kind === "photo"
        ? `A photo must be JPEG, PNG or WebP, not ${input.type}.`
        : `A certificate must be a PDF, not ${input.type}.`,
      [{ path: "type", message: `Expected one of ${accepted.join(", ")}` }],
    );
  }
  const max = MAX_BYTES[input.kind];
  if (input.size > max) {
    throw new ApiError(
      "payload_too_large",
      `This ${input.kind} is ${megabytes(input.size)}; at most ${megabytes(max)} is accepted.`,
      [{ path: "size", message: `At most ${max} bytes` }],
    );
  }
}

function sameDeclaration(row: Attachment, tokenId: number, input: DeclareAttachmentInput, owner: string): boolean {
  return (
    Number(row.tokenId) === tokenId &&
    row.ownerAddress === owner &&
    row.kind === input.kind &&
    row.declaredSize === input.size &&
    row.declaredType === input.type
  );
}

/** A declaration repeated by the phone: the same attachment, with what has become of its bytes meanwhile. */
async function existing(row: Attachment, tokenId: number, input: DeclareAttachmentInput, owner: string) {
  if (!sameDeclaration(row, tokenId, input, owner)) {
    throw new ApiError("client_id_reused", "This attachment id was already used for a different file.", [
      { path: "id", message: "Already used for a different file" },
    ]);
  }
  // The upload's last answer was lost before it was recorded: its bytes are all here, so it is received now.
  if (row.status === "uploading") {
    const upload = await uploadStore.getUpload(row.id).catch(() => null);
    if (upload && upload.size === upload.offset) {
      // A refusal (not what its kind accepts) is recorded on the row, which is what the phone is told.
      await finishUpload(row.id).catch(() => undefined);
      return db.attachment.findUniqueOrThrow({ where: { id: row.id } });
    }
  }
  return row;
}

/**
 * Declares a photo or certificate of a batch before its bytes are sent. Once per client id: declaring it again
 * returns the same attachment (and a ready one is never uploaded again). Caps and the farm's quota are checked here,
 * before any byte is stored.
 */
export async function declareAttachment(
  tokenId: number,
  input: DeclareAttachmentInput,
  user: UserDto,
): Promise<DeclareResult> {
  const found = await db.attachment.findUnique({ where: { id: input.id } });
  if (found)
    return { attachment: toAttachmentDto(await existing(found, tokenId, input, user.address)), created: false };
  checkCaps(input);
  const batch = await db.cropBatch.findUnique({
    where: { tokenId: BigInt(tokenId) },
    select: { ownerAddress: true, originFarm: true, farm: { select: { ownerAddress: true } } },
  });
  if (!batch) throw new ApiError("not_found", `There is no batch with token id ${tokenId}.`);
  const mayAttach =
    user.role === "admin" || batch.ownerAddress === user.address || batch.farm.ownerAddress === user.address;
  if (!mayAttach) throw new ApiError("forbidden", "Only the batch's owner or its farm may attach files to it.");

  const quota = env.UPLOAD_QUOTA_MB * MIB;
  const inserted = await db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${QUOTA_LOCK}::int, ${batch.originFarm}::int)`;
    const used = await tx.attachment.aggregate({
      where: { farmId: batch.originFarm, status: { notIn: ["rejected", "expired"] } },
      _sum: { declaredSize: true },
    });
    const total = (used._sum.declaredSize ?? 0) + input.size;
    if (total > quota) {
      throw new ApiError(
        "quota_exceeded",
        `This farm has ${megabytes(quota - (used._sum.declaredSize ?? 0))} of its ${megabytes(quota)} left for files; this ${input.kind} is ${megabytes(input.size)}.`,
        [{ path: "size", message: "Over the farm's storage quota" }],
      );
    }
    return tx.attachment.createManyAndReturn({
      data: [
        {
          id: input.id,
          tokenId: BigInt(tokenId),
          farmId: batch.originFarm,
          ownerAddress: user.address,
          kind: input.kind,
          fileName: input.fileName ?? null,
          declaredType: input.type,
          declaredSize: input.size,
          ...(input.kind === "certificate"
            ? {
                certIssuer: input.certificate.issuer,
                certNumber: input.certificate.number,
                certScope: input.certificate.scope,
                validFrom: new Date(`${input.certificate.validFrom}T00:00:00Z`),
                validUntil: new Date(`${input.certificate.validUntil}T00:00:00Z`),
              }
            : {}),
        },
      ],
      skipDuplicates: true,
    });
  });
  const row = inserted[0];
  if (row) return { attachment: toAttachmentDto(row), created: true };
  // A concurrent declaration of the same id won the insert.
  const winner = await db.attachment.findUniqueOrThrow({ where: { id: input.id } });
  return { attachment: toAttachmentDto(await existing(winner, tokenId, input, user.address)), created: false };
}
