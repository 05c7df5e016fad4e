import { type Chain, connectorsForWallets, type WalletList } from "@rainbow-me/rainbowkit";
import { injectedWallet, metaMaskWallet, walletConnectWallet } from "@rainbow-me/rainbowkit/wallets";
import { createConfig, http } from "wagmi";

// Sign-in needs no RPC call; this is where a browser wallet would reach the embedded chain on this machine.
const LOCAL_RPC = "http://127.0.0.1:58545";

// RainbowKit would show Hardhat's icon for chain 31337; iconUrl is its extension of viem's Chain.
export const greenLedgerLocal = {
  id: 31_337,
  name: "GreenLedger local",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [LOCAL_RPC] } },
  testnet: true,
  iconUrl: "/icon.svg",
  iconBackground: "#fff",
} as const satisfies Chain;

// Validated in lib/env.mjs; NEXT_PUBLIC_ values are inlined into client code at build time.
const walletConnectProjectId = process.env.NEXT_PUBLIC_WALLETCONNECT_PROJECT_ID;

// MetaMask falls back to WalletConnect (or its SDK) when it is not injected, so it needs the project id too;
// an injected MetaMask still appears through EIP-6963 discovery.
const wallets: WalletList = [{ groupName: "Browser wallet", wallets: [injectedWallet] }];
if (walletConnectProjectId)
  wallets.push({ groupName: "Other wallets", wallets: [metaMaskWallet, walletConnectWallet] });

const connectors = connectorsForWallets(wallets, {
  appName: "GreenLedger",
  // Only WalletConnect-based wallets read it, and they are listed only when it is set.
  projectId: walletConnectProjectId ?? "",
});

export const wagmiConfig = createConfig({
  // Only our chain: listing mainnet makes RainbowKit look up ENS names through a public RPC.
  chains: [greenLedgerLocal],
  connectors,
  transports: { [greenLedgerLocal.id]: http(LOCAL_RPC) },
});

declare module "wagmi" {
  interface Register {
    config: typeof wagmiConfig;
  }
}
