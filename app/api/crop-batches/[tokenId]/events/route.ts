import { parseWith, readJson } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { recordEvent } from "@/lib/batches/record-event";
import { batchEventSchema, tokenIdSchema } from "@/lib/batches/schema";

export const POST = route<{ tokenId: string }>("signed-in", async ({ request, params, user }) => {
  const tokenId = parseWith(tokenIdSchema, params.tokenId, "tokenId");
  const input = await readJson(request, batchEventSchema);
  return Response.json(await recordEvent(tokenId, input, user), { status: 201 });
});
