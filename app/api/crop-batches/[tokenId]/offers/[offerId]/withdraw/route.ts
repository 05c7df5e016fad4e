import { parseWith } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { tokenIdSchema } from "@/lib/batches/schema";
import { offerIdSchema } from "@/lib/offers/schema";
import { withdrawOffer } from "@/lib/offers/withdraw-offer";

export const POST = route<{ tokenId: string; offerId: string }>("signed-in", async ({ params, user }) => {
  const tokenId = parseWith(tokenIdSchema, params.tokenId, "tokenId");
  const offerId = parseWith(offerIdSchema, params.offerId, "offerId");
  return Response.json(await withdrawOffer(tokenId, offerId, user));
});
