import { type APIRequest, type APIRequestContext, expect } from "@playwright/test";
import { SignJWT } from "jose";
import { demoAccount as deriveDemoAccount } from "@/lib/demo/demo-accounts";
import type { Role } from "@/lib/generated/prisma/enums";
import { signInMessage } from "@/tests/support/siwe";
import { BASE_URL, PUBLIC_BASE_URL, SESSION_SECRET } from "./server";

export type { Role };
export const ROLES: readonly Role[] = ["admin", "farmer", "transporter", "inspector", "buyer"];
export const SESSION_COOKIE = "gl_session";

// Deriving a key from the mnemonic costs milliseconds of PBKDF2: derive each role once.
const accounts = new Map<Role, ReturnType<typeof deriveDemoAccount>>();
export function demoAccount(role: Role): ReturnType<typeof deriveDemoAccount> {
  let account = accounts.get(role);
  if (!account) {
    account = deriveDemoAccount(role);
    accounts.set(role, account);
  }
  return account;
}

/** The demo wallet's address as the API returns it in DTOs (EIP-55 checksummed). */
export function demoAddress(role: Role): `0x${string}` {
  return demoAccount(role).address;
}

/** Signs in over HTTP exactly like a wallet would (EIP-4361); the returned context carries the session cookie. */
export async function signIn(api: APIRequest, role: Role): Promise<APIRequestContext> {
  const context = await api.newContext({ baseURL: BASE_URL });
  try {
    const account = demoAccount(role);
    const nonceResponse = await context.get("/api/auth/nonce");
    expect(nonceResponse.status(), `GET /api/auth/nonce: ${await nonceResponse.text()}`).toBe(200);
    const { nonce } = (await nonceResponse.json()) as { nonce: string };
    const verified = await context.post("/api/auth/verify", {
      data: await signInMessage(account, PUBLIC_BASE_URL, nonce),
    });
    expect(verified.status(), `POST /api/auth/verify: ${await verified.text()}`).toBe(200);
    expect(await verified.json()).toEqual({ address: account.address.toLowerCase(), role });
    return context;
  } catch (error) {
    await context.dispose();
    throw error;
  }
}

/** The `Cookie` header value a signed-in context sends, for requests made outside it. */
export async function cookieHeader(context: APIRequestContext): Promise<string> {
  const session = (await context.storageState()).cookies.find((cookie) => cookie.name === SESSION_COOKIE);
  if (!session) throw new Error("the context holds no session cookie");
  return `${SESSION_COOKIE}=${session.value}`;
}

/** A session cookie the server never issued: for any subject, signed with any secret (by default the run's own). */
export async function craftSessionCookie(subject: string, secret = SESSION_SECRET): Promise<string> {
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(secret));
  return `${SESSION_COOKIE}=${token}`;
}
