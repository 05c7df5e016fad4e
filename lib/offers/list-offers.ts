import "server-only";
import { ApiError } from "@/lib/api/errors";
import { db } from "@/lib/db/client";
import { type OfferDto, toOfferDto } from "@/lib/offers/offer-dto";
import type { UserDto } from "@/lib/users/sign-in-user";

/** The batch owner sees every offer on it; anyone else only their own. Newest first. */
export async function listOffers(tokenId: number, user: UserDto): Promise<OfferDto[]> {
  const id = BigInt(tokenId);
  const batch = await db.cropBatch.findUnique({ where: { tokenId: id }, select: { ownerAddress: true } });
  if (!batch) throw new ApiError("not_found", `There is no batch with token id ${tokenId}.`);
  const offers = await db.purchaseOffer.findMany({
    where: { tokenId: id, ...(batch.ownerAddress === user.address ? {} : { buyerAddress: user.address }) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
  });
  return offers.map(toOfferDto);
}
