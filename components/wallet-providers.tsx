"use client";

import "@rainbow-me/rainbowkit/styles.css";
import {
  ConnectButton,
  createAuthenticationAdapter,
  lightTheme,
  RainbowKitAuthenticationProvider,
  RainbowKitProvider,
  useConnectModal,
} from "@rainbow-me/rainbowkit";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import { getAddress } from "viem";
import { createSiweMessage } from "viem/siwe";
import { useAccount, useDisconnect, WagmiProvider } from "wagmi";
import type { UserDto } from "@/lib/users/sign-in-user";
import { wagmiConfig } from "@/lib/wagmi";

type Props = {
  /** From the server at request time: the SIWE domain must match the running server's. */
  publicBaseUrl: string;
  signedIn: boolean;
  /** The visitor pressed "Connect Wallet" before this code had loaded. */
  openModal: boolean;
  onSignedIn: (user: UserDto) => void;
  onSignedOut: () => Promise<void>;
  /** Called with a way to disconnect while a wallet is connected, and with null once none is. */
  onConnection: (disconnect: (() => Promise<void>) | null) => void;
};

function Connection({ openModal, onConnection }: Pick<Props, "openModal" | "onConnection">) {
  const { status } = useAccount();
  const { disconnectAsync } = useDisconnect();
  const { openConnectModal } = useConnectModal();
  const opened = useRef(false);
  // RainbowKit's provider closes every modal in an effect on mount, which runs after this component's: open it
  // in the commit after that one.
  const [mounted, setMounted] = useState(false);
  useEffect(() => setMounted(true), []);

  useEffect(() => {
    if (!mounted || !openModal || !openConnectModal || opened.current) return;
    opened.current = true;
    openConnectModal();
  }, [mounted, openModal, openConnectModal]);

  useEffect(() => {
    if (status === "connected") onConnection(() => disconnectAsync());
    else if (status === "disconnected") onConnection(null);
  }, [status, disconnectAsync, onConnection]);

  return <ConnectButton showBalance={false} chainStatus="icon" accountStatus="address" />;
}

/** The wallet connection and SIWE sign-in; the page loads it on demand (components/sign-in-panel.tsx). */
export default function WalletConnection({
  publicBaseUrl,
  signedIn,
  openModal,
  onSignedIn,
  onSignedOut,
  onConnection,
}: Props) {
  const [queryClient] = useState(() => new QueryClient());
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
        if (!response.ok) return false;
        const user = (await response.json()) as UserDto;
        onSignedIn({ ...user, address: getAddress(user.address) });
        return true;
      },
      signOut: onSignedOut,
    });
  }, [publicBaseUrl, onSignedIn, onSignedOut]);

  return (
    <WagmiProvider config={wagmiConfig}>
      <QueryClientProvider client={queryClient}>
        <RainbowKitAuthenticationProvider adapter={adapter} status={signedIn ? "authenticated" : "unauthenticated"}>
          <RainbowKitProvider appInfo={{ appName: "GreenLedger" }} theme={lightTheme({ accentColor: "#1f6f43" })}>
            <Connection openModal={openModal} onConnection={onConnection} />
          </RainbowKitProvider>
        </RainbowKitAuthenticationProvider>
      </QueryClientProvider>
    </WagmiProvider>
  );
}
