import fc from "fast-check";
import { demoAddress } from "./auth";
import { E2E_CROP } from "./server";

/**
 * Deterministic malformed requests for every route: each case is a valid request with one thing broken, or a
 * request that is wrong as a whole (bytes, content type, method, cookie). fast-check draws the values from a fixed
 * seed, so every run sends the same requests.
 */

export type Auth = "anonymous" | "farmer" | "admin" | "transporter" | "forged";

export type MalformedCase = {
  route: string;
  kind: string;
  method: string;
  /** May contain TARGET, replaced by the token id of a batch the farmer owns. */
  path: string;
  auth: Auth;
  headers: Record<string, string>;
  body?: Buffer;
  /** Sent with node:http: without a Content-Type, or chunked so that no Content-Length announces the size. */
  raw?: "no-content-type" | "chunked";
};

export const TARGET = "{target}";
export const SEED = 20_261_124;
const JSON_TYPE = { "content-type": "application/json" };
const MAX_BODY = 64 * 1024;

let draws = 0;
/** `count` values of `arbitrary`, each call with its own fixed seed. */
function pick<T>(arbitrary: fc.Arbitrary<T>, count: number): T[] {
  draws += 1;
  return fc.sample(arbitrary, { seed: SEED + draws, numRuns: count });
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
type Mutation = { kind: string; apply: (body: JsonObject) => Json };

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), "utf8");
const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF"), minLength: length, maxLength: length });
const longString = (min: number, max: number) => fc.integer({ min, max }).map((length) => "x".repeat(length));

function set(body: JsonObject, path: string[], value: Json): JsonObject {
  const [head, ...rest] = path;
  if (head === undefined) return body;
  const inner = body[head];
  const child = inner && typeof inner === "object" && !Array.isArray(inner) ? inner : {};
  return { ...body, [head]: rest.length ? set(child, rest, value) : value };
}

function without(body: JsonObject, key: string): JsonObject {
  const { [key]: _removed, ...rest } = body;
  return rest;
}

/** JSON values that are not of the expected type. */
function wrongType(expected: "string" | "number" | "integer" | "boolean" | "object" | "array"): fc.Arbitrary<Json> {
  const candidates: fc.Arbitrary<Json>[] = [
    fc.constant(null),
    fc.boolean(),
    fc.string({ maxLength: 8 }),
    fc.integer({ min: -1000, max: 1000 }),
    fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
    fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
  ];
  return fc.oneof(...candidates).filter((value) => {
    if (expected === "string") return typeof value !== "string";
    if (expected === "number") return typeof value !== "number";
    if (expected === "integer") return typeof value !== "number" || !Number.isInteger(value);
    if (expected === "boolean") return typeof value !== "boolean";
    if (expected === "array") return !Array.isArray(value);
    return value === null || typeof value !== "object" || Array.isArray(value);
  });
}

const unknownKey = (known: readonly string[]) =>
  fc.string({ minLength: 1, maxLength: 12 }).filter((key) => !known.includes(key) && key !== "__proto__");

/** Text PostgreSQL cannot store (NUL) or that is not Unicode (a lone surrogate, sent as a JSON escape). */
const hostileText = fc
  .tuple(fc.constantFrom("\u0000", "\ud800", "\udfff"), fc.string({ minLength: 1, maxLength: 6 }))
  .map(([bad, text]) => `${text}${bad}${text}`);

const notAddress = fc.oneof(
  fc.string({ maxLength: 50 }).filter((text) => !/^0x[0-9a-fA-F]{40}$/.test(text)),
  hex(39).map((digits) => `0x${digits}`),
  hex(41).map((digits) => `0x${digits}`),
  hex(40),
  hex(39).map((digits) => `0x${digits}g`),
  fc.constantFrom("vitalik.eth", "0x", "0X70997970C51812dc3A010C7d01b50e0d17dc79C8"),
);

/** Token ids the API must refuse (no digit is ever percent-encoded, so none can decode to a real id). */
const badTokenId = fc.oneof(
  fc.constantFrom("0", "-1", "01", "1.5", "1e3", "0x1f", "+1", "9007199254740992", "99999999999999999", "NaN", "null"),
  fc
    .string({ minLength: 1, maxLength: 20 })
    .filter((text) => !/^[1-9][0-9]{0,15}$/.test(text) && text !== "." && text !== ".."),
  fc.integer({ min: 17, max: 300 }).map((digits) => "9".repeat(digits)),
);
const badTokenSegment = badTokenId.map(encodeURIComponent);
/** Percent-encodings that do not decode. */
const undecodable = fc.constantFrom("%ZZ", "%", "%FF", "%E0%A4%A", "1%C0%AF", "%uD800");

const wrongMethods = (route: string, path: string, allowed: readonly string[]): MalformedCase[] =>
  ["GET", "POST", "PUT", "PATCH", "DELETE"]
    .filter((method) => !allowed.includes(method))
    .map((method) => ({ route, kind: "method not allowed", method, path, auth: "farmer", headers: {} }));

/** Whole-body problems, each applied to an otherwise valid body. */
function bodyAttacks(
  route: string,
  method: string,
  path: string,
  auth: Auth,
  valid: JsonObject,
  arrayField: string[],
): MalformedCase[] {
  const text = JSON.stringify(valid);
  const base = { route, method, path, auth };
  const cases: MalformedCase[] = [];
  for (const cut of pick(fc.integer({ min: 0, max: text.length - 1 }), 3)) {
    cases.push({
      ...base,
      kind: "malformed JSON: truncated",
      headers: JSON_TYPE,
      body: Buffer.from(text.slice(0, cut)),
    });
  }
  for (const broken of pick(
    fc.constantFrom("{'a': 1}", '{"a":1,}', "{a:1}", "NaN", "undefined", '{"a" 1}', "[1,2", "\u0000", '{"a":01}'),
    3,
  )) {
    cases.push({ ...base, kind: "malformed JSON", headers: JSON_TYPE, body: Buffer.from(broken) });
  }
  const types = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "application/jsonx",
    "json",
    "text/json",
  ];
  for (const contentType of pick(fc.constantFrom(...types), 3)) {
    cases.push({
      ...base,
      kind: `content type ${contentType}`,
      headers: { "content-type": contentType },
      body: Buffer.from(text),
    });
  }
  cases.push({ ...base, kind: "no content type", headers: {}, body: Buffer.from(text), raw: "no-content-type" });
  const invalidUtf8 = [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf8, 0x88, 0x80, 0x80, 0x80]];
  for (const bytes of pick(fc.constantFrom(...invalidUtf8), 2)) {
    const cut = text.indexOf('":') + 3;
    cases.push({
      ...base,
      kind: "non-UTF-8 bytes",
      headers: JSON_TYPE,
      body: Buffer.concat([Buffer.from(text.slice(0, cut)), Buffer.from(bytes), Buffer.from(text.slice(cut))]),
    });
  }
  cases.push({ ...base, kind: "empty body", headers: JSON_TYPE, body: Buffer.alloc(0) });
  cases.push({ ...base, kind: "whitespace body", headers: JSON_TYPE, body: Buffer.from(" \n\t ") });
  for (const root of pick(fc.constantFrom<Json>([], null, 0, "text", true, [valid]), 2)) {
    cases.push({ ...base, kind: "JSON root is not an object", headers: JSON_TYPE, body: json(root) });
  }
  for (const size of pick(fc.integer({ min: MAX_BODY + 1, max: 3 * MAX_BODY }), 2)) {
    const padded = json({ ...valid, padding: "p".repeat(size) });
    cases.push({ ...base, kind: "oversize body", headers: JSON_TYPE, body: padded });
    cases.push({ ...base, kind: "oversize body, chunked", headers: JSON_TYPE, body: padded, raw: "chunked" });
  }
  for (const depth of pick(fc.integer({ min: 500, max: 30_000 }), 2)) {
    const nested = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    cases.push({
      ...base,
      kind: "deeply nested array",
      headers: JSON_TYPE,
      body: Buffer.from(`${text.slice(0, -1)},"nested":${nested}}`),
    });
  }
  for (const length of pick(fc.integer({ min: 1_000, max: 15_000 }), 2)) {
    const huge = set(valid, arrayField, Array<Json>(length).fill(1));
    cases.push({ ...base, kind: `huge array in ${arrayField.join(".")}`, headers: JSON_TYPE, body: json(huge) });
  }
  for (const [key, value] of pick(fc.tuple(unknownKey(Object.keys(valid)), fc.jsonValue({ maxDepth: 2 })), 2)) {
    cases.push({ ...base, kind: "unknown field", headers: JSON_TYPE, body: json({ ...valid, [key]: value as Json }) });
  }
  return cases;
}

function mutate(
  route: string,
  method: string,
  path: string,
  auth: Auth,
  bases: fc.Arbitrary<JsonObject>,
  mutations: [fc.Arbitrary<Mutation>, number][],
) {
  const cases: MalformedCase[] = [];
  for (const [mutation, count] of mutations) {
    for (const [body, { kind, apply }] of pick(fc.tuple(bases, mutation), count)) {
      cases.push({ route, kind, method, path, auth, headers: JSON_TYPE, body: json(apply(body)) });
    }
  }
  return cases;
}

const field = (name: string, values: fc.Arbitrary<Json>, kind: string): fc.Arbitrary<Mutation> =>
  values.map((value) => ({ kind: `${name}: ${kind}`, apply: (body) => set(body, name.split("."), value) }));
const missing = (names: readonly string[]): fc.Arbitrary<Mutation> =>
  fc.constantFrom(...names).map((name) => ({ kind: `${name}: missing`, apply: (body) => without(body, name) }));

function isoDay(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

// --- POST /api/crop-batches ---------------------------------------------------------------------------------

const BATCH_TYPES = {
  clientId: "string",
  cropType: "string",
  variety: "string",
  quantity: "number",
  unit: "string",
  harvestDate: "string",
  farmId: "integer",
  qualityScore: "integer",
  metadata: "object",
} as const;
const BATCH_KEYS = Object.keys(BATCH_TYPES) as (keyof typeof BATCH_TYPES)[];
const validBatch: fc.Arbitrary<JsonObject> = fc.record({
  clientId: fc.uuid({ version: 4 }),
  cropType: fc.constant(E2E_CROP),
  variety: fc.constantFrom("Roma", "Cherry"),
  quantity: fc.integer({ min: 1, max: 1_000_000 }).map((tenths) => tenths / 10),
  unit: fc.constantFrom("KGM", "TNE", "LBR", "H87"),
  harvestDate: fc.integer({ min: 2, max: 300 }).map((days) => isoDay(-days)),
  farmId: fc.constantFrom(1, 2, 3, 4, 5),
  qualityScore: fc.integer({ min: 0, max: 100 }),
  metadata: fc.constant({ organic: true, grade: "Class I" }),
});

function createBatchCases(): MalformedCase[] {
  const route = "/api/crop-batches";
  const mutations: [fc.Arbitrary<Mutation>, number][] = [
    [fc.constantFrom(...BATCH_KEYS).chain((name) => field(name, wrongType(BATCH_TYPES[name]), "wrong type")), 8],
    [missing(BATCH_KEYS.filter((key) => key !== "variety" && key !== "metadata")), 4],
    [
      field(
        "clientId",
        fc.oneof(
          fc.string({ maxLength: 40 }),
          fc.uuid().map((id) => id.replaceAll("-", "")),
          fc.uuid().map((id) => `{${id}}`),
        ),
        "not a UUID",
      ),
      3,
    ],
    [field("cropType", fc.oneof(fc.constantFrom("", "   "), longString(65, 300)), "empty or too long"), 2],
    [field("variety", fc.oneof(fc.constantFrom("", " "), longString(129, 500)), "empty or too long"), 2],
    [field("quantity", fc.double({ max: -0.001, noNaN: true, noDefaultInfinity: true }), "negative"), 2],
    [field("quantity", fc.constantFrom(0, -0), "zero"), 1],
    [field("quantity", fc.double({ min: 1_000_000_001, max: 1e300, noNaN: true, noDefaultInfinity: true }), "huge"), 2],
    [
      field(
        "quantity",
        fc.integer({ min: 1, max: 99_999 }).map((n) => Number(`${n}.${String(n % 997).padStart(3, "0")}7`)),
        "finer than 0.001",
      ),
      2,
    ],
    [
      field(
        "unit",
        fc.oneof(
          fc.constantFrom("kgm", "KG", "kg", "TON", "", " KGM", "KGM "),
          fc.string({ maxLength: 5 }).filter((unit) => !["KGM", "TNE", "LBR", "H87"].includes(unit)),
        ),
        "unknown unit",
      ),
      3,
    ],
    [field("harvestDate", fc.integer({ min: 2, max: 3650 }).map(isoDay), "in the future"), 3],
    [
      field(
        "harvestDate",
        fc
          .date({ min: new Date("1900-01-01T00:00:00Z"), max: new Date("1999-12-31T00:00:00Z"), noInvalidDate: true })
          .map((date) => date.toISOString().slice(0, 10)),
        "before 2000",
      ),
      2,
    ],
    [
      field(
        "harvestDate",
        fc.constantFrom(
          "2024-02-30",
          "2023-02-29",
          "2024-13-01",
          "2024-00-10",
          "2024-04-31",
          "2024/01/01",
          "20240101",
          "2024-1-1",
          "2024-01-01T00:00:00Z",
          "",
          "yesterday",
        ),
        "not a calendar date",
      ),
      3,
    ],
    [
      field(
        "farmId",
        fc.oneof(
          fc.constantFrom(0, -1, 2_147_483_648, Number.MAX_SAFE_INTEGER),
          fc.double({ min: 1.01, max: 4.99, noNaN: true }).filter((id) => !Number.isInteger(id)),
        ),
        "out of range",
      ),
      3,
    ],
    [field("farmId", fc.integer({ min: 6, max: 40 }), "another farmer's farm"), 2],
    [field("farmId", fc.integer({ min: 1_000_000, max: 2_147_483_647 }), "unknown farm"), 1],
    [
      field(
        "qualityScore",
        fc.oneof(
          fc.integer({ min: 101, max: 10_000 }),
          fc.integer({ min: -10_000, max: -1 }),
          fc.constantFrom(50.5, 99.9),
        ),
        "out of range",
      ),
      3,
    ],
    [field("metadata.extra", fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<Json>, "unknown metadata field"), 1],
    [
      field(
        "metadata.certifications",
        fc.integer({ min: 21, max: 60 }).map((count) => Array.from({ length: count }, (_, index) => `cert ${index}`)),
        "too many",
      ),
      1,
    ],
    [field("metadata.certifications", fc.constantFrom([""], ["  "], ["c".repeat(65)], "EU Organic"), "invalid"), 2],
    [field("metadata.grade", fc.oneof(fc.constantFrom("", 3), longString(33, 100)), "invalid"), 1],
    [field("metadata.organic", fc.constantFrom("yes", 1, null), "not a boolean"), 1],
    [field("metadata.notes", fc.oneof(longString(2001, 5000), fc.constant(42)), "invalid"), 1],
    [
      field(
        "metadata.attributes",
        fc
          .integer({ min: 31, max: 80 })
          .map((count) => Object.fromEntries(Array.from({ length: count }, (_, index) => [`a${index}`, index]))),
        "too many",
      ),
      1,
    ],
    [
      field(
        "metadata.attributes",
        fc.constantFrom<Json>(
          { "": 1 },
          { nested: { a: 1 } },
          { list: [1] },
          { none: null },
          { long: "v".repeat(257) },
          { ["k".repeat(65)]: 1 },
        ),
        "invalid",
      ),
      3,
    ],
    [
      fc
        .tuple(fc.constantFrom("cropType", "variety", "metadata.grade", "metadata.notes"), hostileText)
        .map(([name, text]) => ({
          kind: `${name}: NUL or lone surrogate`,
          apply: (body) => set(body, name.split("."), text),
        })),
      4,
    ],
    [unknownKey(BATCH_KEYS).map((key) => ({ kind: "unknown field", apply: (body) => ({ ...body, [key]: 1 }) })), 2],
  ];
  const cases = mutate(route, "POST", route, "farmer", validBatch, mutations);
  // Never an empty header: a client or proxy may drop it, and the then valid request would create a batch.
  for (const key of ['""', "a b", "x".repeat(256), `"${"y".repeat(300)}"`, "tab\tkey", "é"]) {
    for (const body of pick(validBatch, 1)) {
      cases.push({
        route,
        kind: "invalid Idempotency-Key",
        method: "POST",
        path: route,
        auth: "farmer",
        headers: { ...JSON_TYPE, "idempotency-key": key },
        body: json(body),
      });
    }
  }
  const [sample] = pick(validBatch, 1);
  if (!sample) throw new Error("no sample");
  cases.push(...bodyAttacks(route, "POST", route, "farmer", sample, ["metadata", "certifications"]));
  for (const auth of ["anonymous", "forged", "transporter"] as const) {
    for (const body of pick(validBatch, 2))
      cases.push({
        route,
        kind: `valid body, ${auth}`,
        method: "POST",
        path: route,
        auth,
        headers: JSON_TYPE,
        body: json(body),
      });
  }
  // GET lists the caller's own batches: its query is input too.
  for (const query of [
    "limit=0",
    "limit=101",
    "limit=abc",
    "limit=%FF",
    "limit=5&limit=abc",
    "cursor=nope",
    "owner=x",
  ]) {
    cases.push({
      route,
      kind: `bad query ${query}`,
      method: "GET",
      path: `${route}?${query}`,
      auth: "farmer",
      headers: {},
    });
  }
  cases.push(...wrongMethods(route, route, ["GET", "POST"]));
  return cases;
}

// --- POST /api/crop-batches/{tokenId}/events --------------------------------------------------------------------

const ACTIONS = ["ship", "receive", "sell", "consume", "recall", "inspect"];
const validEvent: fc.Arbitrary<JsonObject> = fc.oneof(
  fc.record({
    action: fc.constant("ship"),
    transporter: fc.constantFrom(demoAddress("transporter"), demoAddress("transporter").toLowerCase()),
  }),
  fc.record({ action: fc.constant("sell"), buyer: fc.constant(demoAddress("buyer")) }),
  fc.record({ action: fc.constant("recall"), reason: fc.constantFrom("contamination", "mislabelled") }),
  fc.record({ action: fc.constant("inspect"), result: fc.constantFrom("conformant", "non_conformant") }),
);

function eventCases(): MalformedCase[] {
  const route = "/api/crop-batches/{tokenId}/events";
  const path = `/api/crop-batches/${TARGET}/events`;
  const now = Date.now();
  const mutations: [fc.Arbitrary<Mutation>, number][] = [
    [
      field(
        "action",
        fc.oneof(
          fc.constantFrom("SHIP", "Ship", "harvest", "", "ship "),
          fc.string({ maxLength: 8 }).filter((action) => !ACTIONS.includes(action)),
        ),
        "unknown action",
      ),
      3,
    ],
    [field("action", wrongType("string"), "wrong type"), 2],
    [missing(["action"]), 1],
    [
      fc
        .constantFrom<JsonObject>(
          { action: "ship", buyer: demoAddress("buyer") },
          { action: "ship", reason: "late" },
          { action: "receive", transporter: demoAddress("transporter") },
          { action: "sell", buyer: demoAddress("buyer"), result: "conformant" },
          { action: "recall", reason: "mould", buyer: demoAddress("buyer") },
          { action: "consume", qualityScore: 50 },
        )
        .map((body) => ({ kind: "field of another action", apply: () => body })),
      3,
    ],
    [
      notAddress.map((address) => ({
        kind: "ship: transporter is not an address",
        apply: () => ({ action: "ship", transporter: address }),
      })),
      2,
    ],
    [
      notAddress.map((address) => ({
        kind: "sell: buyer is not an address",
        apply: () => ({ action: "sell", buyer: address }),
      })),
      2,
    ],
    [
      fc
        .oneof(fc.constantFrom("", "   "), longString(501, 1000))
        .map((reason) => ({ kind: "recall: empty or too long reason", apply: () => ({ action: "recall", reason }) })),
      2,
    ],
    [
      fc
        .constantFrom<Json>("ok", "CONFORMANT", "", null)
        .map((result) => ({ kind: "inspect: unknown result", apply: () => ({ action: "inspect", result }) })),
      2,
    ],
    [
      fc.constantFrom<Json>(101, -1, 1.5, "90").map((score) => ({
        kind: "inspect: quality score out of range",
        apply: () => ({ action: "inspect", result: "conformant", qualityScore: score }),
      })),
      2,
    ],
    [
      field(
        "eventTime",
        fc.integer({ min: 10, max: 5_256_000 }).map((minutes) => new Date(now + minutes * 60_000).toISOString()),
        "in the future",
      ),
      3,
    ],
    [
      field(
        "eventTime",
        fc.constantFrom(
          "2024-01-01T00:00:00",
          "2024-01-01",
          "yesterday",
          "2024-13-01T00:00:00Z",
          "2024-01-01T25:00:00Z",
          "1700000000",
          "",
        ),
        "not an ISO instant",
      ),
      3,
    ],
    [
      fc
        .constantFrom("0000-01-01T00:00:00Z", "0000-12-31T23:59:59+00:00")
        .map((eventTime) => ({ kind: "ship: eventTime in year zero", apply: () => ({ action: "ship", eventTime }) })),
      1,
    ],
    [
      field(
        "timeZoneOffset",
        fc.constantFrom("+15:00", "+14:30", "02:00", "+2:00", "Z", "UTC", "+02:60", "-14:01"),
        "invalid",
      ),
      3,
    ],
    [
      field(
        "location",
        fc.constantFrom<Json>(
          { lat: 91, lng: 0 },
          { lat: -91, lng: 0 },
          { lat: 0, lng: 181 },
          { lat: 0 },
          { lat: 0, lng: 0, alt: 1 },
          { lat: "52", lng: "4" },
          null,
          [52, 4],
        ),
        "invalid",
      ),
      3,
    ],
    [field("notes", fc.oneof(longString(2001, 4000), fc.constant(7)), "invalid"), 1],
    [
      hostileText.map((notes) => ({
        kind: "ship: notes with NUL or lone surrogate",
        apply: () => ({ action: "ship", notes }),
      })),
      2,
    ],
    [
      unknownKey([
        ...Object.keys({
          action: 1,
          transporter: 1,
          buyer: 1,
          reason: 1,
          result: 1,
          qualityScore: 1,
          eventTime: 1,
          timeZoneOffset: 1,
          location: 1,
          notes: 1,
        }),
      ]).map((key) => ({ kind: "unknown field", apply: (body) => ({ ...body, [key]: true }) })),
      2,
    ],
  ];
  const cases = mutate(route, "POST", path, "farmer", validEvent, mutations);
  for (const [segment, body] of pick(fc.tuple(badTokenSegment, validEvent), 6)) {
    cases.push({
      route,
      kind: "bad token id",
      method: "POST",
      path: `/api/crop-batches/${segment}/events`,
      auth: "farmer",
      headers: JSON_TYPE,
      body: json(body),
    });
  }
  for (const segment of pick(undecodable, 2)) {
    cases.push({
      route,
      kind: "undecodable token id",
      method: "POST",
      path: `/api/crop-batches/${segment}/events`,
      auth: "farmer",
      headers: JSON_TYPE,
      body: json({ action: "ship" }),
    });
  }
  cases.push({
    route,
    kind: "unknown token id",
    method: "POST",
    path: "/api/crop-batches/999999999/events",
    auth: "farmer",
    headers: JSON_TYPE,
    body: json({ action: "ship" }),
  });
  cases.push(...bodyAttacks(route, "POST", path, "farmer", { action: "ship", notes: "fragile" }, ["location"]));
  for (const auth of ["anonymous", "forged"] as const) {
    cases.push({
      route,
      kind: `valid body, ${auth}`,
      method: "POST",
      path,
      auth,
      headers: JSON_TYPE,
      body: json({ action: "ship" }),
    });
  }
  cases.push(...wrongMethods(route, path, ["POST"]));
  return cases;
}

// --- GET /api/crop-batches/{tokenId} and GET /api/verify/{tokenId} --------------------------------------------------

function tokenPathCases(route: string, prefix: string): MalformedCase[] {
  const cases: MalformedCase[] = [];
  for (const segment of pick(badTokenSegment, 12))
    cases.push({
      route,
      kind: "bad token id",
      method: "GET",
      path: `${prefix}/${segment}`,
      auth: "anonymous",
      headers: {},
    });
  for (const segment of pick(undecodable, 3))
    cases.push({
      route,
      kind: "undecodable token id",
      method: "GET",
      path: `${prefix}/${segment}`,
      auth: "anonymous",
      headers: {},
    });
  for (const id of [999_999_999, 9_007_199_254_740_991])
    cases.push({
      route,
      kind: "unknown token id",
      method: "GET",
      path: `${prefix}/${id}`,
      auth: "anonymous",
      headers: {},
    });
  cases.push(...wrongMethods(route, `${prefix}/1`, ["GET"]));
  return cases;
}

// --- POST /api/crop-batches/search -------------------------------------------------------------------------------

const SEARCH_KEYS = [
  "cropType",
  "cropTypes",
  "states",
  "harvestedFrom",
  "harvestedTo",
  "minQuality",
  "certification",
  "farmId",
  "region",
  "q",
  "limit",
  "offset",
  "cursor",
];
const validSearch: fc.Arbitrary<JsonObject> = fc.record(
  {
    cropType: fc.constantFrom("tomato", "apple"),
    limit: fc.integer({ min: 1, max: 100 }),
    minQuality: fc.integer({ min: 0, max: 100 }),
  },
  { requiredKeys: ["limit"] },
);
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function searchCases(): MalformedCase[] {
  const route = "/api/crop-batches/search";
  const mutations: [fc.Arbitrary<Mutation>, number][] = [
    [field("limit", fc.constantFrom<Json>(0, -1, 101, 1.5, "20", null, 1e9), "invalid"), 3],
    [field("offset", fc.constantFrom<Json>(-1, 10_001, 2.5, "0", 1e12), "invalid"), 2],
    [
      fc.constant<Mutation>({
        kind: "cursor and offset",
        apply: (body) => ({ ...body, cursor: cursorOf(["2026-01-01", 5]), offset: 10 }),
      }),
      1,
    ],
    [
      field(
        "cursor",
        fc.oneof(fc.string({ minLength: 1, maxLength: 60 }), fc.constantFrom("", "!!!", "%%%")),
        "garbage",
      ),
      3,
    ],
    [
      field(
        "cursor",
        fc
          .constantFrom<unknown>(
            {},
            [1],
            ["2026-01-01"],
            ["2026-01-01", -1],
            ["2026-01-01", 1.5],
            ["not-a-date", 5],
            ["2026-02-30", 5],
            ["2026-01-01", 5, 6],
            [5, "2026-01-01"],
            "text",
          )
          .map(cursorOf),
        "well encoded, wrong content",
      ),
      4,
    ],
    [field("cursor", fc.constantFrom(["0000-01-01", 5], ["0000-12-31", 1]).map(cursorOf), "year zero"), 1],
    [field("cursor", longString(201, 400), "too long"), 1],
    [field("states", fc.constantFrom<Json>([6], [-1], [], [0, 0, 0, 0, 0, 0, 0], ["0"], 0, [1.5]), "invalid"), 3],
    [field("cropTypes", fc.constantFrom<Json>([], [""], Array(21).fill("tomato"), "tomato", [1]), "invalid"), 2],
    [
      fc.constant<Mutation>({
        kind: "harvestedFrom after harvestedTo",
        apply: (body) => ({ ...body, harvestedFrom: "2026-02-01", harvestedTo: "2026-01-01" }),
      }),
      1,
    ],
    [
      fc
        .tuple(
          fc.constantFrom("harvestedFrom", "harvestedTo"),
          fc.constantFrom("2026-13-01", "2026-02-30", "01/02/2026", "2026-01-01T00:00:00Z", "", "today"),
        )
        .map(([name, value]) => ({
          kind: `${name}: not a calendar date`,
          apply: (body) => ({ ...body, [name]: value }),
        })),
      3,
    ],
    [
      fc
        .tuple(fc.constantFrom("harvestedFrom", "harvestedTo"), fc.constantFrom("0000-01-01", "0000-06-15"))
        .map(([name, value]) => ({ kind: `${name}: year zero`, apply: (body) => ({ ...body, [name]: value }) })),
      1,
    ],
    [field("minQuality", fc.constantFrom<Json>(101, -1, 50.5, "80"), "invalid"), 2],
    [field("farmId", fc.constantFrom<Json>(0, -5, 1.5, "1", 2_147_483_648), "invalid"), 2],
    [
      fc
        .tuple(fc.constantFrom("region", "certification", "cropType"), fc.constantFrom("", "   "))
        .map(([name, value]) => ({ kind: `${name}: empty`, apply: (body) => ({ ...body, [name]: value }) })),
      2,
    ],
    [field("q", fc.oneof(fc.constantFrom("", "a", "  b  "), longString(101, 300)), "too short or too long"), 2],
    [
      fc
        .tuple(
          fc.constantFrom("q", "cropType", "region", "certification"),
          hostileText.filter((text) => text.includes("\u0000")),
        )
        .map(([name, text]) => ({ kind: `${name}: NUL`, apply: (body) => ({ ...body, [name]: text }) })),
      3,
    ],
    [
      fc
        .constantFrom(...SEARCH_KEYS)
        .chain((name) =>
          field(
            name,
            wrongType(
              ["states", "cropTypes"].includes(name)
                ? "array"
                : ["limit", "offset", "minQuality", "farmId"].includes(name)
                  ? "integer"
                  : "string",
            ),
            "wrong type",
          ),
        ),
      4,
    ],
  ];
  const cases = mutate(route, "POST", route, "anonymous", validSearch, mutations);
  const [sample] = pick(validSearch, 1);
  if (!sample) throw new Error("no sample");
  cases.push(...bodyAttacks(route, "POST", route, "anonymous", sample, ["states"]));
  for (const body of pick(
    fc.tuple(validSearch, fc.constantFrom<Json>(0, 101, "x")).map(([valid, limit]) => ({ ...valid, limit })),
    3,
  )) {
    cases.push({
      route,
      kind: "invalid limit, signed in",
      method: "POST",
      path: route,
      auth: "farmer",
      headers: JSON_TYPE,
      body: json(body),
    });
  }
  cases.push(...wrongMethods(route, route, ["POST"]));
  return cases;
}

// --- query-string routes ------------------------------------------------------------------------------------------

function queryCases(
  route: string,
  auth: Auth,
  valid: Record<string, string>,
  broken: [string, fc.Arbitrary<string>, number][],
): MalformedCase[] {
  const cases: MalformedCase[] = [];
  for (const [name, values, count] of broken) {
    for (const value of pick(values, count)) {
      const query = new URLSearchParams({ ...valid, [name]: value }).toString();
      cases.push({
        route,
        kind: `${name}=${value.length > 20 ? `${value.slice(0, 20)}…` : value}`,
        method: "GET",
        path: `${route}?${query}`,
        auth,
        headers: {},
      });
    }
  }
  return cases;
}

function hourlyCases(): MalformedCase[] {
  const route = "/api/analytics/hourly";
  const cases = queryCases(route, "anonymous", { limit: "10" }, [
    ["limit", fc.constantFrom("0", "5001", "abc", "1.5", "-1", "", "1e9", "Infinity"), 4],
    [
      "from",
      fc.constantFrom(
        "yesterday",
        "2026-01-01",
        "2026-01-01T00:00:00",
        "2026-13-01T00:00:00Z",
        "",
        "2026-01-01T00:00:00+25:00",
      ),
      4,
    ],
    ["to", fc.constantFrom("tomorrow", "2026-01-01", "1700000000"), 2],
    ["from", fc.constantFrom("0000-01-01T00:00:00Z"), 1],
    ["cropType", fc.oneof(fc.constantFrom("", "   "), longString(65, 200)), 2],
    ["cropType", hostileText.filter((text) => text.includes("\u0000")), 1],
  ]);
  for (const key of pick(unknownKey(["cropType", "from", "to", "limit"]), 2)) {
    cases.push({
      route,
      kind: "unknown parameter",
      method: "GET",
      path: `${route}?${new URLSearchParams({ [key]: "1" })}`,
      auth: "anonymous",
      headers: {},
    });
  }
  cases.push({
    route,
    kind: "undecodable limit",
    method: "GET",
    path: `${route}?limit=%FF`,
    auth: "anonymous",
    headers: {},
  });
  cases.push({
    route,
    kind: "repeated limit, last invalid",
    method: "GET",
    path: `${route}?limit=5&limit=abc`,
    auth: "anonymous",
    headers: {},
  });
  cases.push(...wrongMethods(route, route, ["GET"]));
  return cases;
}

function nearbyCases(): MalformedCase[] {
  const route = "/api/transporters/nearby";
  const valid = { lat: "52.1", lng: "4.3", radiusKm: "50" };
  const cases = queryCases(route, "farmer", valid, [
    ["lat", fc.constantFrom("91", "-90.5", "abc", "NaN", "Infinity", "1e400", "52,1"), 4],
    ["lng", fc.constantFrom("181", "-180.01", "east", "0x"), 3],
    ["lat", fc.constantFrom("", " "), 1],
    ["lng", fc.constantFrom("", "  "), 1],
    ["radiusKm", fc.constantFrom("0", "-1", "501", "abc", "1e9"), 3],
    ["radiusKm", fc.constantFrom("1e-320", "5e-324"), 1],
  ]);
  for (const missingParam of ["lat", "lng"]) {
    const { [missingParam as "lat"]: _dropped, ...rest } = valid;
    cases.push({
      route,
      kind: `${missingParam} missing`,
      method: "GET",
      path: `${route}?${new URLSearchParams(rest)}`,
      auth: "farmer",
      headers: {},
    });
  }
  for (const key of pick(unknownKey(["lat", "lng", "radiusKm"]), 2)) {
    cases.push({
      route,
      kind: "unknown parameter",
      method: "GET",
      path: `${route}?${new URLSearchParams({ ...valid, [key]: "1" })}`,
      auth: "farmer",
      headers: {},
    });
  }
  for (const auth of ["anonymous", "forged"] as const)
    cases.push({
      route,
      kind: `valid query, ${auth}`,
      method: "GET",
      path: `${route}?${new URLSearchParams(valid)}`,
      auth,
      headers: {},
    });
  cases.push(...wrongMethods(route, route, ["GET"]));
  return cases;
}

// --- farms, users, auth, and the routes without input ----------------------------------------------------------------

const validFarm: fc.Arbitrary<JsonObject> = fc.record({
  name: fc.constantFrom("E2E Test Farm", "Malformed Acres"),
  region: fc.constantFrom("Westland", "Provence"),
  country: fc.constantFrom("NL", "FR"),
  latitude: fc.double({ min: -90, max: 90, noNaN: true }),
  longitude: fc.double({ min: -180, max: 180, noNaN: true }),
});

function farmCases(): MalformedCase[] {
  const route = "/api/farms";
  const mutations: [fc.Arbitrary<Mutation>, number][] = [
    [
      fc
        .tuple(fc.constantFrom("name", "region"), fc.oneof(fc.constantFrom("", "a", "  b  "), longString(161, 400)))
        .map(([name, value]) => ({
          kind: `${name}: too short or too long`,
          apply: (body) => ({ ...body, [name]: value }),
        })),
      3,
    ],
    [field("country", fc.constantFrom("nl", "NLD", "", "N1", "Netherlands"), "not ISO 3166-1 alpha-2"), 3],
    [field("latitude", fc.constantFrom<Json>(91, -90.5, "52", null), "invalid"), 2],
    [field("longitude", fc.constantFrom<Json>(181, -181, "4", true), "invalid"), 2],
    [missing(["name", "region", "country", "latitude", "longitude"]), 3],
    [
      unknownKey(["name", "region", "country", "latitude", "longitude"]).map((key) => ({
        kind: "unknown field",
        apply: (body) => ({ ...body, [key]: "x" }),
      })),
      2,
    ],
    [
      hostileText
        .filter((text) => text.includes("\u0000"))
        .map((text) => ({ kind: "name: NUL", apply: (body) => ({ ...body, name: `${text} Farm` }) })),
      2,
    ],
  ];
  const cases = mutate(route, "POST", route, "farmer", validFarm, mutations);
  const [sample] = pick(validFarm, 1);
  if (!sample) throw new Error("no sample");
  cases.push(...bodyAttacks(route, "POST", route, "farmer", sample, ["name"]));
  for (const body of pick(validFarm, 2))
    cases.push({
      route,
      kind: "valid body, anonymous",
      method: "POST",
      path: route,
      auth: "anonymous",
      headers: JSON_TYPE,
      body: json(body),
    });
  for (const auth of ["anonymous", "forged"] as const)
    cases.push({ route, kind: `list, ${auth}`, method: "GET", path: route, auth, headers: {} });
  cases.push(...wrongMethods(route, route, ["GET", "POST"]));
  return cases;
}

const DEMO_ADDRESSES = (["admin", "farmer", "transporter", "inspector", "buyer"] as const).map((role) =>
  demoAddress(role).toLowerCase(),
);
/** Well-formed addresses that no user has signed in with. */
const strangerAddress = hex(40)
  .map((digits) => `0x${digits}`)
  .filter((address) => !DEMO_ADDRESSES.includes(address.toLowerCase()));

function roleCases(): MalformedCase[] {
  const route = "/api/users/{address}/role";
  const cases: MalformedCase[] = [];
  for (const [address, role] of pick(
    fc.tuple(
      notAddress.filter((text) => text !== "." && text !== ".."),
      fc.constantFrom("buyer", "inspector"),
    ),
    8,
  )) {
    cases.push({
      route,
      kind: "bad address in path",
      method: "PUT",
      path: `/api/users/${encodeURIComponent(address)}/role`,
      auth: "admin",
      headers: JSON_TYPE,
      body: json({ role }),
    });
  }
  const badBodies = fc.oneof(
    fc.constantFrom<Json>("root", "ADMIN", "Farmer", "", " admin", 1, null, ["admin"]).map((role) => ({ role })),
    fc.constant<JsonObject>({}),
    fc.constantFrom<JsonObject>({ role: "buyer", address: "0x0" }, { role: "buyer", admin: true }),
  );
  for (const [address, body] of pick(fc.tuple(strangerAddress, badBodies), 8)) {
    cases.push({
      route,
      kind: "invalid body",
      method: "PUT",
      path: `/api/users/${address}/role`,
      auth: "admin",
      headers: JSON_TYPE,
      body: json(body),
    });
  }
  for (const address of pick(strangerAddress, 2)) {
    cases.push({
      route,
      kind: "address nobody signed in with",
      method: "PUT",
      path: `/api/users/${address}/role`,
      auth: "admin",
      headers: JSON_TYPE,
      body: json({ role: "buyer" }),
    });
  }
  for (const segment of pick(undecodable, 2)) {
    cases.push({
      route,
      kind: "undecodable address",
      method: "PUT",
      path: `/api/users/${segment}/role`,
      auth: "admin",
      headers: JSON_TYPE,
      body: json({ role: "buyer" }),
    });
  }
  const [stranger] = pick(strangerAddress, 1);
  if (!stranger) throw new Error("no sample");
  const path = `/api/users/${stranger}/role`;
  cases.push(...bodyAttacks(route, "PUT", path, "admin", { role: "buyer" }, ["role"]));
  for (const auth of ["anonymous", "forged", "farmer"] as const) {
    cases.push({
      route,
      kind: `make the buyer an admin, ${auth}`,
      method: "PUT",
      path: `/api/users/${demoAddress("buyer")}/role`,
      auth,
      headers: JSON_TYPE,
      body: json({ role: "admin" }),
    });
  }
  cases.push(...wrongMethods(route, path, ["PUT"]).map((item) => ({ ...item, auth: "admin" as const })));
  return cases;
}

function siwe(domain: string, address: string, nonce: string): string {
  return [
    `${domain} wants you to sign in with your Ethereum account:`,
    address,
    "",
    `URI: http://${domain}`,
    "Version: 1",
    "Chain ID: 1",
    `Nonce: ${nonce}`,
    `Issued At: ${new Date().toISOString()}`,
  ].join("\n");
}

function signInCases(): MalformedCase[] {
  const route = "/api/auth/verify";
  const signature = hex(130).map((digits) => `0x${digits}`);
  const valid: fc.Arbitrary<JsonObject> = fc.record({
    message: fc
      .constantFrom("localhost:3100", "evil.example")
      .map((domain) => siwe(domain, demoAddress("farmer"), "abcdefgh1234")),
    signature,
  });
  const mutations: [fc.Arbitrary<Mutation>, number][] = [
    [
      field(
        "signature",
        fc.oneof(
          hex(129).map((digits) => `0x${digits}`),
          hex(131).map((digits) => `0x${digits}`),
          hex(130),
          fc.constantFrom("", "0x", "0xZZ"),
        ),
        "not a 65-byte hex signature",
      ),
      3,
    ],
    [field("message", fc.oneof(fc.constant(""), longString(4001, 6000)), "empty or too long"), 2],
    [field("message", fc.string({ minLength: 1, maxLength: 200 }), "not EIP-4361"), 3],
    [
      fc.tuple(notAddress, fc.constantFrom("abcdefgh1234", "")).map(([address, nonce]) => ({
        kind: "message with a bad address or nonce",
        apply: (body) => ({ ...body, message: siwe("localhost:3100", address, nonce) }),
      })),
      2,
    ],
    [fc.constantFrom("message", "signature").chain((name) => field(name, wrongType("string"), "wrong type")), 3],
    [missing(["message", "signature"]), 2],
    [
      unknownKey(["message", "signature"]).map((key) => ({
        kind: "unknown field",
        apply: (body) => ({ ...body, [key]: "x" }),
      })),
      2,
    ],
  ];
  const cases = mutate(route, "POST", route, "anonymous", valid, mutations);
  for (const body of pick(valid, 3))
    cases.push({
      route,
      kind: "signature of nobody",
      method: "POST",
      path: route,
      auth: "anonymous",
      headers: JSON_TYPE,
      body: json(body),
    });
  const [sample] = pick(valid, 1);
  if (!sample) throw new Error("no sample");
  cases.push(...bodyAttacks(route, "POST", route, "anonymous", sample, ["message"]));
  cases.push(...wrongMethods(route, route, ["POST"]));
  return cases;
}

function sessionCases(): MalformedCase[] {
  const route = "/api/auth/session";
  const cookies = fc.oneof(
    fc.constantFrom(
      "gl_session=",
      "gl_session=abc",
      "gl_session=a.b.c",
      "gl_session=eyJhbGciOiJub25lIn0.eyJzdWIiOiIweDcwOTk3OTcwYzUxODEyZGMzYTAxMGM3ZDAxYjUwZTBkMTdkYzc5YzgifQ.",
      "GL_SESSION=abc",
      "gl_session=%ZZ",
      'gl_session="unterminated',
    ),
    fc.base64String({ minLength: 4, maxLength: 120 }).map((value) => `gl_session=${value}`),
  );
  const cases: MalformedCase[] = pick(cookies, 10).map((cookie) => ({
    route,
    kind: "bad cookie",
    method: "GET",
    path: route,
    auth: "anonymous",
    headers: { cookie },
  }));
  cases.push({ route, kind: "no cookie", method: "GET", path: route, auth: "anonymous", headers: {} });
  cases.push({ route, kind: "forged cookie", method: "GET", path: route, auth: "forged", headers: {} });
  cases.push(...wrongMethods(route, route, ["GET"]));
  return cases;
}

function noInputCases(route: string, allowed: string[]): MalformedCase[] {
  return wrongMethods(route, route, allowed);
}

function refreshCases(): MalformedCase[] {
  const route = "/api/analytics/refresh";
  return [
    ...(["anonymous", "forged", "farmer", "transporter"] as const).map((auth) => ({
      route,
      kind: `refresh as ${auth}`,
      method: "POST",
      path: route,
      auth,
      headers: {},
    })),
    ...wrongMethods(route, route, ["POST"]).map((item) => ({ ...item, auth: "admin" as const })),
  ];
}

export function malformedCases(): MalformedCase[] {
  draws = 0;
  return [
    ...noInputCases("/api/health", ["GET"]),
    ...noInputCases("/api/auth/nonce", ["GET"]),
    ...noInputCases("/api/auth/logout", ["POST"]),
    ...signInCases(),
    ...sessionCases(),
    ...createBatchCases(),
    ...tokenPathCases("/api/crop-batches/{tokenId}", "/api/crop-batches"),
    ...eventCases(),
    ...searchCases(),
    ...tokenPathCases("/api/verify/{tokenId}", "/api/verify"),
    ...hourlyCases(),
    ...refreshCases(),
    ...nearbyCases(),
    ...farmCases(),
    ...roleCases(),
  ];
}
