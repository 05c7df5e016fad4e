import type { ReactNode } from "react";
import { WalletProviders } from "@/components/wallet-providers";
import { env } from "@/lib/env.mjs";

// Rendered per request so the SIWE domain is the running server's PUBLIC_BASE_URL, not the one at build time.
export const dynamic = "force-dynamic";

export default function WalletLayout({ children }: { children: ReactNode }) {
  return <WalletProviders publicBaseUrl={env.PUBLIC_BASE_URL}>{children}</WalletProviders>;
}
