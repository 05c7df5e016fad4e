import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type Clamd, EICAR, EICAR_SIGNATURE, startClamd } from "@/deploy/local/clamd";
import { InfectedFileError, scanForViruses } from "@/lib/attachments/virus-scan";
import { freePort } from "@/scripts/free-port.mjs";

const TIMEOUT = 30_000;

let clamd: Clamd;

beforeAll(async () => {
  clamd = await startClamd();
}, TIMEOUT);

afterAll(async () => {
  await clamd?.stop();
}, TIMEOUT);

test("the EICAR test file is refused, naming clamd's signature", async () => {
  const error = await scanForViruses(Buffer.from(EICAR, "latin1"), clamd.url).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(InfectedFileError);
  expect((error as Error).message).toContain(EICAR_SIGNATURE);
});

test("1 MiB of random bytes, sent in many chunks, is clean", async () => {
  expect(await scanForViruses(randomBytes(1024 * 1024), clamd.url)).toBe("clean");
});

test("a small PDF is clean", async () => {
  const pdf = Buffer.from(
    [
      "%PDF-1.4",
      "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj",
      "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj",
      "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj",
      "trailer << /Root 1 0 R >>",
      "%%EOF",
      "",
    ].join("\n"),
  );
  expect(await scanForViruses(pdf, clamd.url)).toBe("clean");
});

test("without a clamd URL nothing is scanned", async () => {
  expect(await scanForViruses(Buffer.from(EICAR, "latin1"), undefined)).toBe("skipped");
});

test("a clamd that does not listen fails the scan rather than passing the file", async () => {
  const url = `tcp://127.0.0.1:${await freePort()}`;
  await expect(scanForViruses(Buffer.from("hello"), url)).rejects.toMatchObject({ code: "ECONNREFUSED" });
});
