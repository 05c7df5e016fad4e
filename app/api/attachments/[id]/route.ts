import { parseWith } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { getAttachmentOrThrow } from "@/lib/attachments/list-attachments";
import { attachmentIdSchema } from "@/lib/attachments/schema";

export const GET = route<{ id: string }>("signed-in", async ({ params, user }) => {
  const id = parseWith(attachmentIdSchema, params.id, "id");
  return Response.json(await getAttachmentOrThrow(id, user));
});
