import { db } from "@/lib/db/client";
import type { UserDto } from "@/lib/users/sign-in-user";

/**
 * Who may watch a batch move: its owner, the transporter carrying it, a buyer whose offer on it was accepted, and
 * admins. Asked on the primary: an offer accepted a moment ago counts.
 */
export async function mayWatch(user: UserDto, tokenId: bigint): Promise<"yes" | "no" | "missing"> {
  const batch = await db.cropBatch.findUnique({
    where: { tokenId },
    select: { ownerAddress: true, custodianAddress: true },
  });
  if (!batch) return "missing";
  if (user.role === "admin" || batch.ownerAddress === user.address || batch.custodianAddress === user.address) {
    return "yes";
  }
  const offer = await db.purchaseOffer.findFirst({
    where: { tokenId, buyerAddress: user.address, status: "accepted" },
    select: { id: true },
  });
  return offer ? "yes" : "no";
}
