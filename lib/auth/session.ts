import { parseCookie, stringifySetCookie } from "cookie";
import { jwtVerify, SignJWT } from "jose";
import { LRUCache } from "lru-cache";
import { sessionSecret } from "@/lib/auth/session-secret";
import { env } from "@/lib/env.mjs";

export const SESSION_COOKIE = "gl_session";
const ttlSeconds = env.SESSION_TTL_DAYS * 24 * 60 * 60;
const secure = env.PUBLIC_BASE_URL.startsWith("https:");

export type Session = { address: string };

export async function createSessionCookie(address: string): Promise<string> {
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(address.toLowerCase())
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(sessionSecret());
  return stringifySetCookie({
    name: SESSION_COOKIE,
    value: token,
    httpOnly: true,
    sameSite: "lax",
    secure,
    path: "/",
    maxAge: ttlSeconds,
  });
}

export function clearSessionCookie(): string {
  return stringifySetCookie({
    name: SESSION_COOKIE,
    value: "",
    httpOnly: true,
    sameSite: "lax",
    secure,
    path: "/",
    maxAge: 0,
  });
}

// A token verified once is the same bytes until it expires: a farmer's phone sending a burst of requests (uploads,
// a replayed outbox) pays for the HMAC once. Nothing revokes a token before its expiry, so a cached one says the same.
const verified = new LRUCache<string, { session: Session; expiresAt: number }>({ max: 10_000 });

export async function readSession(cookieHeader: string | null | undefined): Promise<Session | null> {
  const token = cookieHeader ? parseCookie(cookieHeader)[SESSION_COOKIE] : undefined;
  if (!token) return null;
  const known = verified.get(token);
  if (known && known.expiresAt > Date.now()) return known.session;
  try {
    const { payload } = await jwtVerify(token, sessionSecret(), { algorithms: ["HS256"] });
    if (!payload.sub || !/^0x[0-9a-f]{40}$/.test(payload.sub)) return null;
    const session = { address: payload.sub };
    if (payload.exp) verified.set(token, { session, expiresAt: payload.exp * 1000 });
    return session;
  } catch {
    return null;
  }
}
