import { getAddress, verifyMessage } from "viem";
import { generateSiweNonce, parseSiweMessage, validateSiweMessage } from "viem/siwe";
import { z } from "zod";
import { ApiError, badRequest } from "@/lib/api/errors";
import { db } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";
import { signInUser } from "@/lib/users/sign-in-user";

const NONCE_TTL_MS = 10 * 60 * 1000;
const domain = new URL(env.PUBLIC_BASE_URL).host;

export const signInSchema = z
  .object({
    message: z.string().min(1).max(4000),
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte hex signature"),
  })
  .strict();

export async function issueNonce(): Promise<{ nonce: string; expiresAt: Date }> {
  const nonce = generateSiweNonce();
  const expiresAt = new Date(Date.now() + NONCE_TTL_MS);
  await db.authNonce.create({ data: { nonce, expiresAt } });
  return { nonce, expiresAt };
}

/** EIP-4361: checks domain, time window and signature, then spends the nonce exactly once. */
export async function verifySignIn(input: z.infer<typeof signInSchema>) {
  const message = parseSiweMessage(input.message);
  if (!message.address || !message.nonce || !message.domain) {
    throw badRequest("The sign-in message is not a valid EIP-4361 message.", [
      { path: "message", message: "Missing address, domain or nonce" },
    ]);
  }
  if (!validateSiweMessage({ message, domain, time: new Date() })) {
    throw new ApiError("unauthorized", "The sign-in message is for another site or has expired.");
  }
  const valid = await verifyMessage({
    address: message.address,
    message: input.message,
    signature: input.signature as `0x${string}`,
  }).catch(() => false);
  if (!valid) throw new ApiError("unauthorized", "The signature does not match the address.");
  const spent = await db.authNonce.updateMany({
    where: { nonce: message.nonce, consumedAt: null, expiresAt: { gt: new Date() } },
    data: { consumedAt: new Date() },
  });
  if (spent.count !== 1) throw new ApiError("unauthorized", "The sign-in nonce is unknown, used or expired.");
  return signInUser(getAddress(message.address).toLowerCase());
}
