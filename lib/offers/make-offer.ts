import "server-only";
import { ApiError } from "@/lib/api/errors";
import { stateName, TRANSITIONS } from "@/lib/batches/lifecycle";
import { db } from "@/lib/db/client";
import { Prisma } from "@/lib/generated/prisma/client";
import { type OfferDto, toOfferDto } from "@/lib/offers/offer-dto";
import type { MakeOfferInput } from "@/lib/offers/schema";
import type { UserDto } from "@/lib/users/sign-in-user";

/** A buyer's offer on a listed batch; while their open offer exists, repeating it returns that one. */
export async function makeOffer(
  tokenId: number,
  input: MakeOfferInput,
  buyer: UserDto,
): Promise<{ offer: OfferDto; created: boolean }> {
  const id = BigInt(tokenId);
  const openOffer = (client: Prisma.TransactionClient) =>
    client.purchaseOffer.findFirst({ where: { tokenId: id, buyerAddress: buyer.address, status: "open" } });
  try {
    return await db.$transaction(async (tx) => {
      // FOR SHARE waits for a concurrent sale or shipment to commit, so an offer never lands on a batch just
      // taken off the market (which closes the open offers in its own transaction).
      const [batch] = await tx.$queryRaw<{ ownerAddress: string; currentState: number }[]>`
        SELECT owner_address AS "ownerAddress", current_state AS "currentState" FROM crop_batches
        WHERE token_id = ${id} FOR SHARE`;
      if (!batch) throw new ApiError("not_found", `There is no batch with token id ${tokenId}.`);
      if (batch.ownerAddress === buyer.address) throw new ApiError("conflict", "You already own this batch.");
      if (!TRANSITIONS.sell.from.includes(batch.currentState)) {
        throw new ApiError(
          "conflict",
          `This batch is ${stateName(batch.currentState).replace("_", " ")}: only harvested or stored batches are for sale.`,
        );
      }
      const existing = await openOffer(tx);
      if (existing) return { offer: toOfferDto(existing), created: false };
      const offer = await tx.purchaseOffer.create({
        data: { tokenId: id, buyerAddress: buyer.address, note: input.note ?? null },
      });
      return { offer: toOfferDto(offer), created: true };
    });
  } catch (error) {
    // A concurrent repeat won the partial unique index (one open offer per buyer and batch).
    if (!(error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002")) throw error;
    const winner = await openOffer(db);
    if (!winner) throw new ApiError("conflict", "Your offer changed while it was being sent. Try again.");
    return { offer: toOfferDto(winner), created: false };
  }
}
