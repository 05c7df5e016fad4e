import type { LocalAccount } from "viem";
import { createSiweMessage } from "viem/siwe";

/** The EIP-4361 message a wallet signs to sign in to the server at `publicBaseUrl`, and its signature. */
export async function signInMessage(account: LocalAccount, publicBaseUrl: string, nonce: string) {
  const message = createSiweMessage({
    domain: new URL(publicBaseUrl).host,
    address: account.address,
    uri: publicBaseUrl,
    version: "1",
    chainId: 1,
    nonce,
  });
  return { message, signature: await account.signMessage({ message }) };
}
