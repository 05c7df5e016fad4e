import { randomUUID } from "node:crypto";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createSessionCookie } from "@/lib/auth/session";
import { db } from "@/lib/db/client";
import type { Role } from "@/lib/generated/prisma/enums";

type Handler<P> = (request: Request, context: { params: Promise<P> }) => Promise<Response>;

export type Call = {
  method?: string;
  path?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  cookie?: string;
};

/** Invokes a route handler the way Next does, with a real Request. */
export async function call<P>(handler: Handler<P>, params: P, options: Call = {}) {
  const { method = "GET", path = "/", body, rawBody, headers = {}, cookie } = options;
  const payload = rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
  const request = new Request(`http://localhost:3000${path}`, {
    method,
    body: payload,
    headers: {
      ...(payload !== undefined ? { "content-type": "application/json" } : {}),
      ...(cookie ? { cookie } : {}),
      ...headers,
    },
  });
  const response = await handler(request, { params: Promise.resolve(params) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

export type TestUser = { address: string; role: Role; cookie: string };

/** A fresh wallet with a role and a signed session cookie, as if it had signed in. */
export async function userWithRole(role: Role): Promise<TestUser> {
  const address = privateKeyToAccount(generatePrivateKey()).address.toLowerCase();
  await db.user.create({ data: { address, role } });
  const setCookie = await createSessionCookie(address);
  return { address, role, cookie: setCookie.split(";")[0] ?? "" };
}

export async function farmOf(owner: string) {
  return db.farm.create({
    data: {
      name: `Test Farm ${owner.slice(2, 8)}`,
      region: "Test Valley",
      country: "NL",
      latitude: 52.1,
      longitude: 4.3,
      ownerAddress: owner,
    },
  });
}

export function newBatch(farmId: number, overrides: Record<string, unknown> = {}) {
  return {
    clientId: randomUUID(),
    cropType: "tomato",
    variety: "Roma",
    quantity: 120.5,
    unit: "KGM",
    harvestDate: new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10),
    farmId,
    qualityScore: 88,
    metadata: { certifications: ["EU Organic"], organic: true, grade: "Class I" },
    ...overrides,
  };
}
