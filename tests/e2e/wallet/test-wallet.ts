import { randomUUID } from "node:crypto";
import type { Page } from "@playwright/test";
import { type Hex, isHex, type LocalAccount, numberToHex } from "viem";

type RpcRequest = { method: string; params?: unknown };
type RpcEvent = { name: "accountsChanged" | "chainChanged"; data: unknown };
type RpcReply = { result?: unknown; error?: { code: number; message: string }; events?: RpcEvent[] };
type WalletInfo = { uuid: string; name: string; icon: string; rdns: string };

export const TEST_WALLET_NAME = "Test Wallet";
const BINDING = "__greenLedgerTestWallet";
const LOCAL_CHAIN_ID = 31_337;
const CHAIN_IDS = [LOCAL_CHAIN_ID, 1];
const ICON = `data:image/svg+xml;base64,${Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1f6f43"/><path d="M9 17l5 5 9-12" stroke="#fff" stroke-width="3" fill="none"/></svg>',
).toString("base64")}`;

/** Runs in the page before its scripts: an EIP-1193 provider announced over EIP-6963 that forwards every request to Node. */
function announceWallet({ info, binding }: { info: WalletInfo; binding: string }): void {
  type Listener = (data: unknown) => void;
  const listeners = new Map<string, Set<Listener>>();
  const emit = (name: string, data: unknown) => {
    for (const listener of listeners.get(name) ?? []) listener(data);
  };
  const provider = {
    async request(request: RpcRequest): Promise<unknown> {
      const bridge = (window as unknown as Record<string, (request: RpcRequest) => Promise<RpcReply>>)[binding];
      if (!bridge) throw Object.assign(new Error("The test wallet's bridge is missing."), { code: 4900 });
      const reply = await bridge({ method: request.method, params: request.params });
      // Wallets answer first, then emit: listeners see the state the answer described.
      for (const event of reply.events ?? []) setTimeout(() => emit(event.name, event.data), 0);
      if (reply.error) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
      return reply.result;
    },
    on(name: string, listener: Listener) {
      listeners.set(name, (listeners.get(name) ?? new Set()).add(listener));
      return provider;
    },
    removeListener(name: string, listener: Listener) {
      listeners.get(name)?.delete(listener);
      return provider;
    },
  };
  const announce = () =>
    window.dispatchEvent(
      new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info: Object.freeze(info), provider }) }),
    );
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
}

/**
 * Installs the wallet in every document `page` loads. Its state (approval, chain) lives here in Node, so it survives
 * navigations the way an extension's does. Returns the methods the page called, in order.
 */
export async function installTestWallet(page: Page, account: LocalAccount): Promise<string[]> {
  const address = account.address.toLowerCase();
  const calls: string[] = [];
  let approved = false;
  let chainId = LOCAL_CHAIN_ID;
  const permissions = () =>
    approved
      ? [{ parentCapability: "eth_accounts", caveats: [{ type: "restrictReturnedAccounts", value: [address] }] }]
      : [];
  const approve = (): RpcEvent[] => {
    if (approved) return [];
    approved = true;
    return [{ name: "accountsChanged", data: [address] }];
  };

  async function handle({ method, params }: RpcRequest): Promise<RpcReply> {
    calls.push(method);
    switch (method) {
      case "eth_requestAccounts": {
        const events = approve();
        return { result: [address], events };
      }
      case "wallet_requestPermissions": {
        const events = approve();
        return { result: permissions(), events };
      }
      case "eth_accounts":
        return { result: approved ? [address] : [] };
      case "wallet_getPermissions":
        return { result: permissions() };
      case "wallet_revokePermissions":
        approved = false;
        return { result: null, events: [{ name: "accountsChanged", data: [] }] };
      case "eth_chainId":
        return { result: numberToHex(chainId) };
      case "net_version":
        return { result: String(chainId) };
      case "wallet_switchEthereumChain": {
        const requested = (params as [{ chainId?: Hex }] | undefined)?.[0]?.chainId;
        const next = Number(requested);
        if (!CHAIN_IDS.includes(next)) return { error: { code: 4902, message: `Unrecognized chain ID ${requested}.` } };
        const changed = next !== chainId;
        chainId = next;
        return { result: null, events: changed ? [{ name: "chainChanged", data: numberToHex(next) }] : [] };
      }
      case "personal_sign": {
        const [data, signer] = params as [string, string];
        if (!approved || signer.toLowerCase() !== address) {
          return { error: { code: 4100, message: "The requested account has not been authorized." } };
        }
        return { result: await account.signMessage({ message: isHex(data) ? { raw: data } : data }) };
      }
      default:
        return { error: { code: 4200, message: `${TEST_WALLET_NAME} does not support ${method}.` } };
    }
  }

  await page.exposeFunction(BINDING, handle);
  await page.addInitScript(announceWallet, {
    info: { uuid: randomUUID(), name: TEST_WALLET_NAME, icon: ICON, rdns: "test.greenledger" },
    binding: BINDING,
  });
  return calls;
}
