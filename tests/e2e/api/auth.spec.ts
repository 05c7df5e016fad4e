import { privateKeyToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import { expectError } from "../support/api";
import { craftSessionCookie, demoAccount, ROLES, SESSION_COOKIE } from "../support/auth";
import { expect, test } from "../support/fixtures";
import { PUBLIC_BASE_URL } from "../support/server";

const DOMAIN = new URL(PUBLIC_BASE_URL).host;
// Any key other than the demo farmer's: the classic hardhat account #9.
const STRANGER = privateKeyToAccount("0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6");

function message(overrides: Partial<Parameters<typeof createSiweMessage>[0]> = {}): string {
  return createSiweMessage({
    domain: DOMAIN,
    address: demoAccount("farmer").address,
    uri: PUBLIC_BASE_URL,
    version: "1",
    chainId: 1,
    nonce: "e2eMadeUpNonce0001",
    ...overrides,
  });
}

test.describe("sign-in over HTTP (EIP-4361)", () => {
  test("GET /api/auth/nonce issues a fresh nonce", async ({ request }) => {
    const first = await request.get("/api/auth/nonce");
    expect(first.status(), await first.text()).toBe(200);
    expect(first.headers()["cache-control"]).toBe("no-store");
    const body = (await first.json()) as { nonce: string; expiresAt: string };
    expect(body).toEqual({ nonce: expect.stringMatching(/^[a-zA-Z0-9]{8,}$/), expiresAt: expect.any(String) });
    const second = (await (await request.get("/api/auth/nonce")).json()) as { nonce: string };
    expect(second.nonce).not.toBe(body.nonce);
  });

  for (const role of ROLES) {
    test(`the demo ${role} signs in and the session carries the role`, async ({ signedIn }) => {
      const context = await signedIn(role);
      const [cookie] = (await context.storageState()).cookies;
      expect(cookie).toMatchObject({ name: SESSION_COOKIE, path: "/", httpOnly: true, secure: false, sameSite: "Lax" });
      const session = await context.get("/api/auth/session");
      expect(session.status()).toBe(200);
      expect(await session.json()).toEqual({ address: demoAccount(role).address.toLowerCase(), role });
    });
  }

  test("a nonce signs in once; replaying the signed message is refused", async ({ playwright }) => {
    const context = await playwright.request.newContext();
    const nonceResponse = await context.get("/api/auth/nonce");
    expect(nonceResponse.status(), await nonceResponse.text()).toBe(200);
    const { nonce } = (await nonceResponse.json()) as { nonce: string };
    const signed = message({ nonce });
    const data = { message: signed, signature: await demoAccount("farmer").signMessage({ message: signed }) };
    expect((await context.post("/api/auth/verify", { data })).status()).toBe(200);
    await expectError(await context.post("/api/auth/verify", { data }), 401, {
      code: "unauthorized",
      message: "The sign-in nonce is unknown, used or expired.",
    });
    await context.dispose();
  });

  test("a correctly signed message with a nonce the server never issued is refused", async ({ request }) => {
    const signed = message();
    const signature = await demoAccount("farmer").signMessage({ message: signed });
    await expectError(await request.post("/api/auth/verify", { data: { message: signed, signature } }), 401, {
      code: "unauthorized",
      message: "The sign-in nonce is unknown, used or expired.",
    });
  });

  test("a message for another site is refused", async ({ request }) => {
    const signed = message({ domain: "evil.example", uri: "https://evil.example" });
    const signature = await demoAccount("farmer").signMessage({ message: signed });
    await expectError(await request.post("/api/auth/verify", { data: { message: signed, signature } }), 401, {
      code: "unauthorized",
      message: "The sign-in message is for another site or has expired.",
    });
  });

  test("a signature by another key is refused", async ({ request }) => {
    const signed = message();
    const signature = await STRANGER.signMessage({ message: signed });
    await expectError(await request.post("/api/auth/verify", { data: { message: signed, signature } }), 401, {
      code: "unauthorized",
      message: "The signature does not match the address.",
    });
  });
});

test.describe("sessions", () => {
  const PROTECTED: { method: "GET" | "POST" | "PUT"; path: string; data?: unknown }[] = [
    { method: "GET", path: "/api/auth/session" },
    { method: "POST", path: "/api/crop-batches", data: {} },
    { method: "POST", path: "/api/crop-batches/1/events", data: { action: "ship" } },
    { method: "GET", path: "/api/farms" },
    { method: "POST", path: "/api/farms", data: {} },
    { method: "GET", path: "/api/transporters/nearby?lat=52&lng=4&radiusKm=50" },
    { method: "POST", path: "/api/analytics/refresh" },
    { method: "PUT", path: `/api/users/${demoAccount("buyer").address}/role`, data: { role: "admin" } },
  ];

  test("every protected endpoint answers 401 without a cookie", async ({ request }) => {
    for (const { method, path, data } of PROTECTED) {
      await test.step(`${method} ${path}`, async () => {
        await expectError(await request.fetch(path, { method, data }), 401, {
          code: "unauthorized",
          message: "Sign in with your wallet first.",
        });
      });
    }
  });

  test("a cookie signed with another secret is no session", async ({ request }) => {
    const forged = await craftSessionCookie(demoAccount("admin").address.toLowerCase(), "x".repeat(48));
    for (const { method, path, data } of PROTECTED) {
      await test.step(`${method} ${path}`, async () => {
        await expectError(await request.fetch(path, { method, data, headers: { cookie: forged } }), 401, {
          code: "unauthorized",
          message: "Sign in with your wallet first.",
        });
      });
    }
  });

  test("a genuine session for a wallet the server does not know is refused", async ({ request }) => {
    const cookie = await craftSessionCookie(STRANGER.address.toLowerCase());
    await expectError(await request.get("/api/auth/session", { headers: { cookie } }), 401, {
      code: "unauthorized",
      message: "Your session is no longer valid. Sign in again.",
    });
  });

  test("roles gate what a session may do", async ({ signedIn }) => {
    const transporter = await signedIn("transporter");
    await expectError(await transporter.post("/api/crop-batches", { data: {} }), 403, {
      code: "forbidden",
      message: "This action needs one of these roles: farmer, admin.",
    });
    const farmer = await signedIn("farmer");
    await expectError(await farmer.post("/api/analytics/refresh"), 403, {
      code: "forbidden",
      message: "This action needs one of these roles: admin.",
    });
    const admin = await signedIn("admin");
    const refreshed = await admin.post("/api/analytics/refresh");
    expect(refreshed.status()).toBe(200);
    expect(await refreshed.json()).toEqual({ rowsWritten: expect.any(Number) });
  });

  test("logout clears the cookie", async ({ signedIn }) => {
    const farmer = await signedIn("farmer");
    expect((await farmer.get("/api/auth/session")).status()).toBe(200);
    const loggedOut = await farmer.post("/api/auth/logout");
    expect(loggedOut.status()).toBe(204);
    expect(loggedOut.headers()["set-cookie"]).toMatch(
      new RegExp(`^${SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax$`),
    );
    expect((await farmer.storageState()).cookies).toEqual([]);
    await expectError(await farmer.get("/api/auth/session"), 401, {
      code: "unauthorized",
      message: "Sign in with your wallet first.",
    });
  });
});
