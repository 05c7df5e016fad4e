import "server-only";
import { ApiError } from "@/lib/api/errors";
import { recordEvent } from "@/lib/batches/record-event";
import { db } from "@/lib/db/client";
import type { UserDto } from "@/lib/users/sign-in-user";

/** The owner sells the batch to an open offer's buyer; recordEvent closes the other open offers in the same transaction. */
export async function acceptOffer(tokenId: number, offerId: number, owner: UserDto) {
  const id = BigInt(tokenId);
  const batch = await db.cropBatch.findUnique({ where: { tokenId: id }, select: { ownerAddress: true } });
  if (!batch) throw new ApiError("not_found", `There is no batch with token id ${tokenId}.`);
  if (batch.ownerAddress !== owner.address)
    throw new ApiError("forbidden", "Only the batch's owner may accept offers.");
  const offer = await db.purchaseOffer.findFirst({ where: { id: BigInt(offerId), tokenId: id } });
  if (!offer) throw new ApiError("not_found", `There is no offer ${offerId} on batch ${tokenId}.`);
  if (offer.status !== "open") throw new ApiError("conflict", `This offer is already ${offer.status}.`);

  return recordEvent(tokenId, { action: "sell", buyer: offer.buyerAddress }, owner, {
    within: async (tx) => {
      const decidedAt = new Date();
      const accepted = await tx.purchaseOffer.updateMany({
        where: { id: offer.id, status: "open" },
        data: { status: "accepted", decidedAt },
      });
      if (accepted.count !== 1) throw new ApiError("conflict", "This offer is no longer open.");
    },
  });
}
