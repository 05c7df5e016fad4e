import "server-only";
import { ApiError } from "@/lib/api/errors";
import { db } from "@/lib/db/client";
import { type OfferDto, toOfferDto } from "@/lib/offers/offer-dto";
import type { UserDto } from "@/lib/users/sign-in-user";

export async function withdrawOffer(tokenId: number, offerId: number, buyer: UserDto): Promise<OfferDto> {
  const where = { id: BigInt(offerId), tokenId: BigInt(tokenId) };
  const offer = await db.purchaseOffer.findFirst({ where });
  if (!offer) throw new ApiError("not_found", `There is no offer ${offerId} on batch ${tokenId}.`);
  if (offer.buyerAddress !== buyer.address)
    throw new ApiError("forbidden", "Only the buyer who made an offer may withdraw it.");
  const withdrawn = await db.purchaseOffer.updateManyAndReturn({
    where: { ...where, status: "open" },
    data: { status: "withdrawn", decidedAt: new Date() },
  });
  const [updated] = withdrawn;
  if (!updated) throw new ApiError("conflict", "This offer is no longer open, so it cannot be withdrawn.");
  return toOfferDto(updated);
}
