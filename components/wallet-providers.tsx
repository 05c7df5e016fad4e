"use client";

import "@rainbow-me/rainbowkit/styles.css";
import {
  type AuthenticationStatus,
  createAuthenticationAdapter,
  lightTheme,
  RainbowKitAuthenticationProvider,
  RainbowKitProvider,
} from "@rainbow-me/rainbowkit";
import { QueryClient, QueryClientProvider, useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useCallback, useMemo, useState } from "react";
import { createSiweMessage } from "viem/siwe";
import { useAccount, useDisconnect, WagmiProvider } from "wagmi";
import type { Role } from "@/lib/generated/prisma/enums";
import { wagmiConfig } from "@/lib/wagmi";

type SessionUser = { address: string; role: Role };

const SESSION_KEY = ["auth", "session"] as const;

async function fetchSession(): Promise<SessionUser | null> {
  const response = await fetch("/api/auth/session", { cache: "no-store" });
  if (response.status === 401) return null;
  if (!response.ok) throw new Error(`GET /api/auth/session answered ${response.status}`);
  return (await response.json()) as SessionUser;
}

/** The signed-in user from the session cookie: undefined while loading, null when signed out. */
export function useSession() {
  return useQuery({ queryKey: SESSION_KEY, queryFn: fetchSession });
}

async function endSession(queryClient: QueryClient): Promise<void> {
  await fetch("/api/auth/logout", { method: "POST" });
  await queryClient.invalidateQueries({ queryKey: SESSION_KEY });
}

/** Signs out; with a wallet connected, disconnecting it makes RainbowKit call the adapter's signOut. */
export function useSignOut(): () => Promise<void> {
  const queryClient = useQueryClient();
  const { isConnected } = useAccount();
  const { disconnectAsync } = useDisconnect();
  return useCallback(
    () => (isConnected ? disconnectAsync() : endSession(queryClient)),
    [isConnected, disconnectAsync, queryClient],
  );
}

function SiweAuthentication({ publicBaseUrl, children }: { publicBaseUrl: string; children: ReactNode }) {
  const queryClient = useQueryClient();
  const session = useSession();
  const adapter = useMemo(() => {
    const { host, origin } = new URL(publicBaseUrl);
    return createAuthenticationAdapter<string>({
      getNonce: async () => {
        const response = await fetch("/api/auth/nonce", { cache: "no-store" });
        if (!response.ok) throw new Error(`GET /api/auth/nonce answered ${response.status}`);
        return ((await response.json()) as { nonce: string }).nonce;
      },
      createMessage: ({ nonce, address, chainId }) =>
        createSiweMessage({
          domain: host,
          address,
          statement: "Sign in to GreenLedger",
          uri: origin,
          version: "1",
          chainId,
          nonce,
        }),
      verify: async ({ message, signature }) => {
        const response = await fetch("/api/auth/verify", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ message, signature }),
        });
        await queryClient.invalidateQueries({ queryKey: SESSION_KEY });
        return response.ok;
      },
      signOut: () => endSession(queryClient),
    });
  }, [publicBaseUrl, queryClient]);

  const status: AuthenticationStatus = session.isPending
    ? "loading"
    : session.data
      ? "authenticated"
      : "unauthenticated";

  return (
    <RainbowKitAuthenticationProvider adapter={adapter} status={status}>
      <RainbowKitProvider appInfo={{ appName: "GreenLedger" }} theme={lightTheme({ accentColor: "#1f6f43" })}>
        {children}
      </RainbowKitProvider>
    </RainbowKitAuthenticationProvider>
  );
}

/** `publicBaseUrl` comes from the server at request time: the SIWE domain must match the running server's. */
export function WalletProviders({ publicBaseUrl, children }: { publicBaseUrl: string; children: ReactNode }) {
  const [queryClient] = useState(() => new QueryClient());
  return (
    <WagmiProvider config={wagmiConfig}>
      <QueryClientProvider client={queryClient}>
        <SiweAuthentication publicBaseUrl={publicBaseUrl}>{children}</SiweAuthentication>
      </QueryClientProvider>
    </WagmiProvider>
  );
}
