import { getAddress, type Hex } from "viem";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { createSiweMessage, generateSiweNonce } from "viem/siwe";
import { beforeAll, describe, expect, it } from "vitest";
import { POST as logout } from "@/app/api/auth/logout/route";
import { GET as getNonce } from "@/app/api/auth/nonce/route";
import { GET as getSession } from "@/app/api/auth/session/route";
import { POST as verify } from "@/app/api/auth/verify/route";
import { POST as createFarm } from "@/app/api/farms/route";
import { PUT as putRole } from "@/app/api/users/[address]/role/route";
import { db } from "@/lib/db/client";
import { call, type TestUser, userWithRole } from "@/tests/support/api";

type MessageOptions = { domain?: string; nonce?: string; expirationTime?: Date; notBefore?: Date; address?: Hex };

async function issueNonce(): Promise<string> {
  const response = await call(getNonce, {}, { path: "/api/auth/nonce" });
  expect(response.status).toBe(200);
  return response.body.nonce;
}

function siweMessage(account: PrivateKeyAccount, nonce: string, options: MessageOptions = {}) {
  return createSiweMessage({
    address: options.address ?? account.address,
    chainId: 1,
    domain: options.domain ?? "localhost:3000",
    nonce,
    uri: "http://localhost:3000",
    version: "1",
    statement: "Sign in to GreenLedger",
    ...(options.expirationTime ? { expirationTime: options.expirationTime } : {}),
    ...(options.notBefore ? { notBefore: options.notBefore } : {}),
  });
}

const submit = (message: string, signature: string) =>
  call(verify, {}, { method: "POST", path: "/api/auth/verify", body: { message, signature } });

async function signIn(account: PrivateKeyAccount, options: MessageOptions = {}) {
  const message = siweMessage(account, options.nonce ?? (await issueNonce()), options);
  const signature = await account.signMessage({ message });
  return { message, signature, response: await submit(message, signature) };
}

const sessionOf = (setCookie: string | null) => setCookie?.split(";")[0] ?? "";

describe("Sign-In with Ethereum", () => {
  it("GET /api/auth/nonce issues a storable nonce and the whole sign-in works", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const issued = await call(getNonce, {}, { path: "/api/auth/nonce" });
    expect(issued.status).toBe(200);
    expect(issued.headers.get("cache-control")).toBe("no-store");
    const nonce: string = issued.body.nonce;
    expect(nonce).toMatch(/^[a-zA-Z0-9]{8,}$/);
    expect(new Date(issued.body.expiresAt).getTime()).toBeGreaterThan(Date.now());
    expect(await db.authNonce.count({ where: { nonce } })).toBe(1);
    const { response } = await signIn(account, { nonce });
    expect(response.status).toBe(200);
    const session = await call(getSession, {}, { cookie: sessionOf(response.headers.get("set-cookie")) });
    expect(session.body).toEqual({ address: account.address.toLowerCase(), role: "buyer" });
  });

  it("verifies a signed message, sets the session cookie and signs up a buyer", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const nonce = await issueNonce();
    const { response } = await signIn(account, { nonce });
    const address = account.address.toLowerCase();

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ address, role: "buyer" });
    const setCookie = response.headers.get("set-cookie");
    expect(setCookie).toMatch(/^gl_session=[\w-]+\.[\w-]+\.[\w-]+;/);
    expect(setCookie).toMatch(/;\s*HttpOnly/i);
    expect(setCookie).toMatch(/;\s*SameSite=Lax/i);
    expect(setCookie).toMatch(/;\s*Path=\//);
    expect(setCookie).toMatch(/;\s*Max-Age=\d+/);
    expect((await db.user.findUniqueOrThrow({ where: { address } })).role).toBe("buyer");
    expect((await db.authNonce.findUniqueOrThrow({ where: { nonce } })).consumedAt).not.toBeNull();

    const session = await call(getSession, {}, { cookie: sessionOf(setCookie) });
    expect(session.status).toBe(200);
    expect(session.body).toEqual({ address, role: "buyer" });
  });

  // Serialised on PGlite (one connection), so this only fails on real PostgreSQL.
  it("concurrent first sign-ins of one new wallet all succeed", async () => {
    for (let round = 0; round < 3; round++) {
      const account = privateKeyToAccount(generatePrivateKey());
      const attempts = await Promise.all(Array.from({ length: 5 }, () => signIn(account)));
      expect(attempts.map((a) => a.response.status)).toEqual(Array(5).fill(200));
      expect(await db.user.count({ where: { address: account.address.toLowerCase() } })).toBe(1);
    }
  });

  it("refuses a replay of the same message and signature (the nonce is single-use)", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const { message, signature, response } = await signIn(account);
    expect(response.status).toBe(200);
    const replay = await submit(message, signature);
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe("unauthorized");
    expect(replay.headers.get("set-cookie")).toBeNull();
  });

  it("spends a nonce only once when the same signed message races itself", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const message = siweMessage(account, await issueNonce());
    const signature = await account.signMessage({ message });
    const responses = await Promise.all(Array.from({ length: 10 }, () => submit(message, signature)));
    expect(responses.map((r) => r.status).sort()).toEqual([200, ...Array(9).fill(401)]);
  });

  it("refuses a message for another domain, and that attempt does not spend the nonce", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const nonce = await issueNonce();
    const wrong = await signIn(account, { nonce, domain: "evil.example.com" });
    expect(wrong.response.status).toBe(401);
    expect(wrong.response.headers.get("set-cookie")).toBeNull();
    expect(await db.user.count({ where: { address: account.address.toLowerCase() } })).toBe(0);
    expect((await signIn(account, { nonce })).response.status).toBe(200);
  });

  it("refuses an expired message", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const { response } = await signIn(account, { expirationTime: new Date(Date.now() - 60_000) });
    expect(response.status).toBe(401);
  });

  it("refuses a message that is not valid yet", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const { response } = await signIn(account, { notBefore: new Date(Date.now() + 10 * 60_000) });
    expect(response.status).toBe(401);
  });

  it("refuses a signature made by another key", async () => {
    const victim = privateKeyToAccount(generatePrivateKey());
    const attacker = privateKeyToAccount(generatePrivateKey());
    const message = siweMessage(attacker, await issueNonce(), { address: victim.address });
    const response = await submit(message, await attacker.signMessage({ message }));
    expect(response.status).toBe(401);
    expect(await db.user.count({ where: { address: victim.address.toLowerCase() } })).toBe(0);
  });

  it("refuses a nonce that was never issued", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const { response } = await signIn(account, { nonce: generateSiweNonce() });
    expect(response.status).toBe(401);
    expect(await db.user.count({ where: { address: account.address.toLowerCase() } })).toBe(0);
  });

  it("refuses a nonce that has expired", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const nonce = await issueNonce();
    await db.authNonce.update({ where: { nonce }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const { response } = await signIn(account, { nonce });
    expect(response.status).toBe(401);
  });

  it("answers 400 for a malformed signature", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const message = siweMessage(account, await issueNonce());
    const response = await submit(message, "0x1234");
    expect(response.status).toBe(400);
    expect(response.body.error.fields).toEqual([{ path: "signature", message: expect.any(String) }]);
  });

  it("answers 400 for a message that is not EIP-4361", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const message = "please let me in";
    const response = await submit(message, await account.signMessage({ message }));
    expect(response.status).toBe(400);
    expect(response.body.error.fields).toEqual([{ path: "message", message: expect.any(String) }]);
  });

  it("answers 401 on /api/auth/session without a cookie or with a garbage one", async () => {
    expect((await call(getSession, {})).status).toBe(401);
    expect((await call(getSession, {}, { cookie: "gl_session=eyJhbGciOiJub25lIn0.e30." })).status).toBe(401);
  });

  it("clears the cookie on logout", async () => {
    const response = await call(logout, {}, { method: "POST", path: "/api/auth/logout" });
    expect(response.status).toBe(204);
    const setCookie = response.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^gl_session=;/);
    expect(setCookie).toMatch(/;\s*Max-Age=0(;|$)/);
    expect(setCookie).toMatch(/;\s*HttpOnly/i);
    expect(setCookie).toMatch(/;\s*Path=\//);
  });
});

describe("PUT /api/users/{address}/role", () => {
  let admin: TestUser;

  beforeAll(async () => {
    admin = await userWithRole("admin");
  });

  const put = (address: string, body: unknown, cookie?: string) =>
    call(putRole, { address }, { method: "PUT", path: `/api/users/${address}/role`, body, cookie });

  it("lets an admin change a role; the user's existing session and later sign-ins keep it", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const first = await signIn(account);
    expect(first.response.body.role).toBe("buyer");
    const cookie = sessionOf(first.response.headers.get("set-cookie"));
    const farm = { name: "Promoted Farm", region: "Drenthe", country: "NL", latitude: 52.8, longitude: 6.6 };
    expect((await call(createFarm, {}, { method: "POST", body: farm, cookie })).status).toBe(403);

    const response = await put(getAddress(account.address), { role: "farmer" }, admin.cookie);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ address: account.address.toLowerCase(), role: "farmer" });
    expect((await db.user.findUniqueOrThrow({ where: { address: account.address.toLowerCase() } })).role).toBe(
      "farmer",
    );

    expect((await call(getSession, {}, { cookie })).body.role).toBe("farmer");
    expect((await call(createFarm, {}, { method: "POST", body: farm, cookie })).status).toBe(201);
    expect((await signIn(account)).response.body).toEqual({ address: account.address.toLowerCase(), role: "farmer" });
  });

  it("refuses a non-admin with 403 and leaves the role alone", async () => {
    const farmer = await userWithRole("farmer");
    const target = await userWithRole("buyer");
    const response = await put(target.address, { role: "admin" }, farmer.cookie);
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe("forbidden");
    expect((await db.user.findUniqueOrThrow({ where: { address: target.address } })).role).toBe("buyer");
    const self = await put(farmer.address, { role: "admin" }, farmer.cookie);
    expect(self.status).toBe(403);
    expect((await db.user.findUniqueOrThrow({ where: { address: farmer.address } })).role).toBe("farmer");
  });

  it("answers 401 without a session", async () => {
    const target = await userWithRole("buyer");
    expect((await put(target.address, { role: "admin" })).status).toBe(401);
  });

  it("answers 404 for an address that never signed in", async () => {
    const stranger = privateKeyToAccount(generatePrivateKey()).address;
    const response = await put(stranger, { role: "farmer" }, admin.cookie);
    expect(response.status).toBe(404);
    expect(await db.user.count({ where: { address: stranger.toLowerCase() } })).toBe(0);
  });

  it("answers 400 for a bad address or an unknown role", async () => {
    const target = await userWithRole("buyer");
    const badAddress = await put("0x123", { role: "farmer" }, admin.cookie);
    expect(badAddress.status).toBe(400);
    expect(badAddress.body.error.fields).toEqual([{ path: "address", message: expect.any(String) }]);
    const badRole = await put(target.address, { role: "overlord" }, admin.cookie);
    expect(badRole.status).toBe(400);
    expect(badRole.body.error.fields).toEqual([{ path: "role", message: expect.any(String) }]);
    expect((await db.user.findUniqueOrThrow({ where: { address: target.address } })).role).toBe("buyer");
  });
});
