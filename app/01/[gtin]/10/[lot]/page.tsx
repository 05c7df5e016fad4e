import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { cache } from "react";
import { loadVerification, VerificationView } from "@/components/verify/verification-view";
import { findTokenByGs1 } from "@/lib/verify/find-token-by-gs1";

type Props = { params: Promise<{ gtin: string; lot: string }> };

export const dynamic = "force-dynamic";

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const tokenIdOf = cache(async (gtin: string, lot: string): Promise<number> => {
  const tokenId = await findTokenByGs1(gtin, decoded(lot));
  if (tokenId === null) notFound();
  return tokenId;
});

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { gtin, lot } = await params;
  const tokenId = await tokenIdOf(gtin, lot);
  await loadVerification(tokenId);
  return { title: `Verify batch #${tokenId}`, robots: { index: false } };
}

// Rendered in place rather than redirected: a phone on a weak signal saves a round trip, and the page is the same.
export default async function Gs1DigitalLinkPage({ params }: Props) {
  const { gtin, lot } = await params;
  return <VerificationView tokenId={await tokenIdOf(gtin, lot)} />;
}
