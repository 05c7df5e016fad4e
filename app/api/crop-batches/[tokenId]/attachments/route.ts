import { parseWith, readJson } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { declareAttachment } from "@/lib/attachments/declare-attachment";
import { listAttachments } from "@/lib/attachments/list-attachments";
import { declareAttachmentSchema } from "@/lib/attachments/schema";
import { tokenIdSchema } from "@/lib/batches/schema";

/** Declares a photo or certificate (its client id, kind, type and size) before its bytes go to the upload URL. */
export const POST = route<{ tokenId: string }>("signed-in", async ({ request, params, user }) => {
  const tokenId = parseWith(tokenIdSchema, params.tokenId, "tokenId");
  const input = await readJson(request, declareAttachmentSchema);
  const { attachment, created } = await declareAttachment(tokenId, input, user);
  return Response.json(attachment, { status: created ? 201 : 200 });
});

export const GET = route<{ tokenId: string }>("public", async ({ params }) => {
  const tokenId = parseWith(tokenIdSchema, params.tokenId, "tokenId");
  return Response.json(await listAttachments(tokenId));
});
