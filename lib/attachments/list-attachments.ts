import "server-only";
import { ApiError } from "@/lib/api/errors";
import { type AttachmentDto, toAttachmentDto } from "@/lib/attachments/attachment-dto";
import { dbRead } from "@/lib/db/client";
import type { UserDto } from "@/lib/users/sign-in-user";

/** A batch's ready photos and certificates, in the order they were attached: what anyone may see. */
export async function listAttachments(tokenId: number): Promise<AttachmentDto[]> {
  const rows = await dbRead.attachment.findMany({
    where: { tokenId: BigInt(tokenId), status: "ready" },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  return rows.map(toAttachmentDto);
}

/** One attachment, for the one who declared it (or an admin): how far its upload and processing have come. */
export async function getAttachmentOrThrow(id: string, viewer: UserDto): Promise<AttachmentDto> {
  const row = await dbRead.attachment.findUnique({ where: { id } });
  if (!row || (row.ownerAddress !== viewer.address && viewer.role !== "admin")) {
    throw new ApiError("not_found", "There is no such attachment.");
  }
  return toAttachmentDto(row);
}
