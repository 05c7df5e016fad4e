import { parseWith } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { getBatchOrThrow } from "@/lib/batches/get-batch-or-throw";
import { tokenIdSchema } from "@/lib/batches/schema";

export const GET = route<{ tokenId: string }>("public", async ({ params }) => {
  const tokenId = parseWith(tokenIdSchema, params.tokenId, "tokenId");
  return Response.json(await getBatchOrThrow(tokenId));
});
