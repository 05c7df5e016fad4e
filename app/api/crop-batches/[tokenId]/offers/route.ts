import { parseWith, readJson } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { tokenIdSchema } from "@/lib/batches/schema";
import { listOffers } from "@/lib/offers/list-offers";
import { makeOffer } from "@/lib/offers/make-offer";
import { makeOfferSchema } from "@/lib/offers/schema";

export const GET = route<{ tokenId: string }>("signed-in", async ({ params, user }) => {
  const tokenId = parseWith(tokenIdSchema, params.tokenId, "tokenId");
  return Response.json(await listOffers(tokenId, user));
});

export const POST = route<{ tokenId: string }>(["buyer"], async ({ request, params, user }) => {
  const tokenId = parseWith(tokenIdSchema, params.tokenId, "tokenId");
  const input = await readJson(request, makeOfferSchema);
  const { offer, created } = await makeOffer(tokenId, input, user);
  return Response.json(offer, { status: created ? 201 : 200 });
});
