import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DISCARD_MAX_BYTES, readJson } from "@/lib/api/body";
import { ApiError } from "@/lib/api/errors";

const schema = z.object({ name: z.string() }).strict();

function request(body: BodyInit, contentType = "application/json") {
  return new Request("http://localhost/x", { method: "POST", body, headers: { "content-type": contentType } });
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ApiError)) throw new Error("expected an ApiError");
  return error;
}

describe("readJson", () => {
  it("parses a valid body", async () => {
    await expect(readJson(request('{"name":"tomato"}'), schema)).resolves.toEqual({ name: "tomato" });
  });

  it("names the failing field for wrong types and unknown fields", async () => {
    const error = await failure(readJson(request('{"name":1,"extra":true}'), schema));
    expect(error.status).toBe(400);
    expect(error.fields?.map((field) => field.path).sort()).toEqual(["(root)", "name"]);
  });

  it("rejects malformed JSON, a wrong content type, invalid UTF-8 and oversize bodies with 400", async () => {
    for (const attempt of [
      readJson(request("{"), schema),
      readJson(request('{"name":"x"}', "text/plain"), schema),
      readJson(request(new Uint8Array([0x7b, 0xff, 0x7d])), schema),
      readJson(request(JSON.stringify({ name: "x".repeat(100) })), schema, 50),
    ]) {
      const error = await failure(attempt);
      expect(error.toBody().error.code).toBe("bad_request");
      expect(error.fields?.length).toBeGreaterThan(0);
    }
  });

  it("reads an oversize body to its end when that is within the discard bound, else refuses it with Connection: close", async () => {
    const body = (bytes: number) => JSON.stringify({ name: "x".repeat(bytes) });
    const drained = await failure(readJson(request(body(100)), schema, 50));
    expect(drained.headers).toEqual({});
    const dropped = await failure(readJson(request(body(DISCARD_MAX_BYTES + 100)), schema, 50));
    expect(dropped.toBody().error.code).toBe("bad_request");
    expect(dropped.headers).toEqual({ connection: "close" });
  });
});
