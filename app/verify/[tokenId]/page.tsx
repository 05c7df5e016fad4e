import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { cache } from "react";
import { loadVerification, VerificationView } from "@/components/verify/verification-view";
import { tokenIdSchema } from "@/lib/batches/schema";

type Props = { params: Promise<{ tokenId: string }> };

export const dynamic = "force-dynamic";

// server.ts answers malformed ids with a 400 page before Next; this only guards direct renders.
const tokenIdOf = cache((raw: string): number => {
  const tokenId = tokenIdSchema.safeParse(raw);
  if (!tokenId.success) notFound();
  return tokenId.data;
});

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const tokenId = tokenIdOf((await params).tokenId);
  await loadVerification(tokenId);
  return { title: `Verify batch #${tokenId}`, robots: { index: false } };
}

export default async function VerifyPage({ params }: Props) {
  return (
    <>
      <VerificationView tokenId={tokenIdOf((await params).tokenId)} />
      {/* Not needed for the verdict: it only lets the page open offline after one visit. */}
      <script src="/sw-register.js" async />
    </>
  );
}
