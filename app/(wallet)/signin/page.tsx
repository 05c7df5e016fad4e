import type { Metadata } from "next";
import { getAddress } from "viem";
import { SignInPanel } from "@/components/sign-in-panel";
import { signedInUser } from "@/lib/auth/signed-in-user";
import { env } from "@/lib/env.mjs";

export const metadata: Metadata = { title: "Sign in" };

/** Only same-site paths: an absolute or protocol-relative `next` would make this an open redirect. */
function safeNext(next: string | string[] | undefined): string {
  return typeof next === "string" && /^\/(?![/\\])/.test(next) ? next : "/";
}

// Rendered per request (it reads the session cookie), so the SIWE domain is the running server's PUBLIC_BASE_URL.
export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  const [{ next }, user] = await Promise.all([searchParams, signedInUser()]);
  return (
    <main id="main" tabIndex={-1}>
      <section className="hero">
        <h1>Connect wallet and sign in</h1>
        <p>
          GreenLedger knows you by your wallet address. Connect your wallet and sign a one-time message (Sign-In with
          Ethereum) to record inspections, shipments and deliveries for the batches you handle.
        </p>
      </section>
      <SignInPanel
        next={safeNext(next)}
        user={user && { address: getAddress(user.address), role: user.role }}
        publicBaseUrl={env.PUBLIC_BASE_URL}
      />
    </main>
  );
}
