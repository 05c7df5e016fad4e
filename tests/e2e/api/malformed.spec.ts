import http from "node:http";
import type { APIRequestContext } from "@playwright/test";
import { createBatch, getBatch, searchAll } from "../support/api";
import { cookieHeader, craftSessionCookie, demoAddress, ROLES, type Role, signIn } from "../support/auth";
import { expect, test } from "../support/fixtures";
import { type Auth, type MalformedCase, malformedCases, TARGET } from "../support/malformed";
import { BASE_URL, HOST, PORT } from "../support/server";

const ROUTES = [
  "/api/health",
  "/api/auth/nonce",
  "/api/auth/verify",
  "/api/auth/session",
  "/api/auth/logout",
  "/api/crop-batches",
  "/api/crop-batches/{tokenId}",
  "/api/crop-batches/{tokenId}/events",
  "/api/crop-batches/search",
  "/api/verify/{tokenId}",
  "/api/analytics/hourly",
  "/api/analytics/refresh",
  "/api/transporters/nearby",
  "/api/farms",
  "/api/users/{address}/role",
];

/** lib/api/errors.ts: the codes each status may carry. */
const CODES: Record<number, string[]> = {
  400: ["bad_request"],
  401: ["unauthorized"],
  403: ["forbidden"],
  404: ["not_found"],
  405: ["method_not_allowed"],
  409: ["conflict", "idempotency_request_in_progress", "invalid_transition"],
  422: ["idempotency_key_reused", "client_id_reused"],
  429: ["rate_limited"],
};

type Outcome = { request: MalformedCase; path: string; status: number; contentType: string; text: string };

const cases = malformedCases();

/** What a malformed request could have changed, read through the API. */
async function snapshot(api: APIRequestContext, sessions: Record<Role, string>, target: number) {
  const batches = await searchAll(api);
  const farms = await api.get("/api/farms", { headers: { cookie: sessions.farmer } });
  expect(farms.status()).toBe(200);
  const roles: Record<string, unknown> = {};
  for (const role of ROLES) {
    const session = await api.get("/api/auth/session", { headers: { cookie: sessions[role] } });
    roles[role] = ((await session.json()) as { role?: string }).role;
  }
  // Not updatedAt: the relayer and indexer keep writing chain status in the background.
  const { state, timeline, ownerAddress, custodianAddress, contentHash } = await getBatch(api, target);
  return {
    batches: batches.length,
    farmerBatches: batches.filter((row) => row.ownerAddress === demoAddress("farmer")).length,
    farmerFarms: ((await farms.json()) as { farms: { id: number }[] }).farms.map((farm) => farm.id),
    roles,
    target: { state, events: timeline.length, contentHash, ownerAddress, custodianAddress },
  };
}

/** For the requests Playwright's client would normalise: no Content-Type at all, or a chunked body. */
function sendRaw(method: string, path: string, headers: Record<string, string>, body: Buffer, chunked: boolean) {
  return new Promise<Omit<Outcome, "request" | "path">>((resolve, reject) => {
    let answered = false;
    const request = http.request(
      {
        host: HOST,
        port: PORT,
        method,
        path,
        agent: false,
        headers: chunked ? headers : { ...headers, "content-length": body.length },
      },
      (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: response.headers["content-type"] ?? "",
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    // The server may answer and close while an oversize body is still being written.
    request.on("error", (error) => {
      if (!answered) reject(error);
    });
    if (chunked) {
      for (let offset = 0; offset < body.length; offset += 8_192) request.write(body.subarray(offset, offset + 8_192));
    } else {
      request.write(body);
    }
    request.end();
  });
}

/** Why a response breaks the contract, or null. */
function violation({ status, contentType, text }: Outcome): string | null {
  if (status >= 500) return "server error";
  if (status < 400) return "accepted";
  const isJson = /^application\/json/.test(contentType);
  if ((status === 404 || status === 405) && !isJson) return null;
  if (!isJson) return `content type ${contentType || "(none)"}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return "body is not JSON";
  }
  const error = (body as { error?: unknown }).error as Record<string, unknown> | undefined;
  if (!error || typeof body !== "object" || Object.keys(body as object).join() !== "error")
    return "not the error shape";
  if (Object.keys(error).some((key) => !["code", "message", "fields"].includes(key))) return "unexpected key in error";
  if (typeof error.code !== "string" || !(CODES[status] ?? []).includes(error.code))
    return `code ${String(error.code)}`;
  if (typeof error.message !== "string" || !error.message) return "no message";
  const fields = error.fields;
  if (status === 400) {
    const valid =
      Array.isArray(fields) &&
      fields.length > 0 &&
      fields.every(
        (item: { path?: unknown; message?: unknown }) =>
          typeof item.path === "string" && typeof item.message === "string",
      );
    if (!valid) return "400 without fields";
  }
  return null;
}

function tally(values: (string | number)[]): string {
  const counts = new Map<string | number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].map(([value, count]) => `${value}×${count}`).join(" ");
}

function describeOutcome(outcome: Outcome, problem: string): string {
  const { request, path, status, text } = outcome;
  const shownPath = path.length > 90 ? `${path.slice(0, 90)}…` : path;
  return `${problem}: ${request.method} ${shownPath} [${request.auth}] (${request.kind}) -> ${status} ${text.slice(0, 140)}`;
}

test.describe("malformed requests", () => {
  let api: APIRequestContext;
  let sessions: Record<Role, string>;
  let cookies: Record<Auth, string | undefined>;
  let target = 0;

  test.beforeAll(async ({ playwright }) => {
    api = await playwright.request.newContext({ baseURL: BASE_URL });
    const entries: [Role, string][] = [];
    for (const role of ROLES) {
      const context = await signIn(playwright.request, role);
      entries.push([role, await cookieHeader(context)]);
      // The events cases aim at a batch the farmer owns and may ship: any accepted request would change it.
      if (role === "farmer") target = (await createBatch(context)).tokenId;
      await context.dispose();
    }
    sessions = Object.fromEntries(entries) as Record<Role, string>;
    cookies = {
      anonymous: undefined,
      farmer: sessions.farmer,
      admin: sessions.admin,
      transporter: sessions.transporter,
      forged: await craftSessionCookie(
        demoAddress("admin").toLowerCase(),
        "not-the-server-secret-but-just-as-long-as-it",
      ),
    };
  });

  test.afterAll(async () => {
    await api.dispose();
  });

  test(`${cases.length} generated requests cover every route`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
    expect([...new Set(cases.map((item) => item.route))].sort()).toEqual([...ROUTES].sort());
  });

  for (const route of ROUTES) {
    const group = cases.filter((item) => item.route === route);
    test(`${route}: ${group.length} malformed requests are refused with 4xx and change nothing`, async () => {
      const before = await snapshot(api, sessions, target);
      const outcomes: Outcome[] = [];
      for (const request of group) {
        const path = request.path.replace(TARGET, String(target));
        const cookie = cookies[request.auth];
        const headers = { ...request.headers, ...(cookie ? { cookie } : {}) };
        if (request.raw) {
          const raw = await sendRaw(
            request.method,
            path,
            headers,
            request.body ?? Buffer.alloc(0),
            request.raw === "chunked",
          );
          outcomes.push({ request, path, ...raw });
          continue;
        }
        const response = await api.fetch(path, {
          method: request.method,
          headers,
          data: request.body,
          maxRedirects: 0,
        });
        outcomes.push({
          request,
          path,
          status: response.status(),
          contentType: response.headers()["content-type"] ?? "",
          text: await response.text(),
        });
      }
      const after = await snapshot(api, sessions, target);

      const summary = `${route}: ${outcomes.length} requests (${tally(outcomes.map((item) => item.request.method))}; ${tally(
        outcomes.map((item) => item.request.auth),
      )}) -> ${tally(outcomes.map((item) => item.status).sort())}`;
      console.log(summary);
      test.info().annotations.push({ type: "summary", description: summary });

      const problems = outcomes.flatMap((outcome) => {
        const problem = violation(outcome);
        return problem ? [describeOutcome(outcome, problem)] : [];
      });
      expect.soft(problems, `${problems.length} of ${outcomes.length} responses break the contract`).toEqual([]);
      expect(after, "a malformed request changed data").toEqual(before);
    });
  }
});
