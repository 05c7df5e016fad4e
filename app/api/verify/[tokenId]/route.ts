import { parseWith } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { tokenIdSchema } from "@/lib/batches/schema";
import { getVerification } from "@/lib/verify/get-verification";

export const GET = route<{ tokenId: string }>("public", async ({ params }) => {
  const tokenId = parseWith(tokenIdSchema, params.tokenId, "tokenId");
  return Response.json(await getVerification(tokenId));
});
