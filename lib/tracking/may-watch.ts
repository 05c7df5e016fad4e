import { db } from "@/lib/db/client";
import type { UserDto } from "@/lib/users/sign-in-user";

/** Who may watch a batch move besides admins: its owner, the transporter carrying it, buyers with an accepted offer. */
type WatchRights = { owner: string; custodian: string | null; buyers: ReadonlySet<string> };

const RIGHTS = {
  tokenId: true,
  ownerAddress: true,
  custodianAddress: true,
  offers: { where: { status: "accepted" as const }, select: { buyerAddress: true } },
};

function toRights(batch: {
  ownerAddress: string;
  custodianAddress: string | null;
  offers: { buyerAddress: string }[];
}): WatchRights {
  return {
    owner: batch.ownerAddress,
    custodian: batch.custodianAddress,
    buyers: new Set(batch.offers.map((offer) => offer.buyerAddress)),
  };
}

/** Whether the rights let `address` watch, admins aside. */
function named(rights: WatchRights, address: string): boolean {
  return rights.owner === address || rights.custodian === address || rights.buyers.has(address);
}

/** One round trip, asked on the primary: an offer accepted a moment ago counts. */
export async function mayWatch(user: UserDto, tokenId: bigint): Promise<"yes" | "no" | "missing"> {
  const batch = await db.cropBatch.findUnique({ where: { tokenId }, select: RIGHTS });
  if (!batch) return "missing";
  return user.role === "admin" || named(toRights(batch), user.address) ? "yes" : "no";
}

/**
 * Of the users watching each batch, the addresses that still may: one query for all the batches, and one more only
 * when some watch as admins (a role can be taken away). A batch that is gone has nobody.
 */
export async function stillWatching(watching: Map<bigint, Iterable<UserDto>>): Promise<Map<bigint, Set<string>>> {
  const batches = await db.cropBatch.findMany({ where: { tokenId: { in: [...watching.keys()] } }, select: RIGHTS });
  const rights = new Map(batches.map((batch) => [batch.tokenId, toRights(batch)]));
  const allowed = new Map<bigint, Set<string>>();
  const asAdmin = new Map<string, bigint[]>();
  for (const [tokenId, users] of watching) {
    const batchRights = rights.get(tokenId);
    const addresses = new Set<string>();
    allowed.set(tokenId, addresses);
    for (const user of users) {
      if (batchRights && named(batchRights, user.address)) addresses.add(user.address);
      else if (batchRights && user.role === "admin")
        asAdmin.set(user.address, [...(asAdmin.get(user.address) ?? []), tokenId]);
    }
  }
  if (asAdmin.size) {
    const admins = await db.user.findMany({
      where: { address: { in: [...asAdmin.keys()] }, role: "admin" },
      select: { address: true },
    });
    for (const { address } of admins) {
      for (const tokenId of asAdmin.get(address) ?? []) allowed.get(tokenId)?.add(address);
    }
  }
  return allowed;
}
