import { checksum } from "@/lib/batches/batch-dto";
import type { PurchaseOffer } from "@/lib/generated/prisma/client";
import type { OfferStatus } from "@/lib/generated/prisma/enums";

export type OfferDto = {
  id: number;
  tokenId: number;
  buyerAddress: string;
  status: OfferStatus;
  note: string | null;
  createdAt: string;
  decidedAt: string | null;
};

export function toOfferDto(offer: PurchaseOffer): OfferDto {
  return {
    id: Number(offer.id),
    tokenId: Number(offer.tokenId),
    buyerAddress: checksum(offer.buyerAddress),
    status: offer.status,
    note: offer.note,
    createdAt: offer.createdAt.toISOString(),
    decidedAt: offer.decidedAt?.toISOString() ?? null,
  };
}
