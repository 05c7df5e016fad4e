import { describe, expect, it } from "vitest";
import { formatLsn, parseLsn, readAfterCookie } from "@/lib/db/replica";

describe("WAL positions", () => {
  it("reads and writes PostgreSQL's LSN text, ordered as numbers", () => {
    expect(parseLsn("16/B374D848")).toBe(0x16b374d848n);
    expect(formatLsn(0x16b374d848n)).toBe("16/B374D848");
    expect(parseLsn("0/0")).toBe(0n);
    expect((parseLsn("1/0") ?? 0n) > (parseLsn("0/FFFFFFFF") ?? 0n)).toBe(true);
    expect(parseLsn("16/B374D848; Path=/")).toBeNull();
  });

  it("gives the caller a short-lived, script-proof cookie, Secure on https", () => {
    expect(readAfterCookie("0/3000148", false)).toBe(
      "gl-read-after=0/3000148; Path=/; Max-Age=300; HttpOnly; SameSite=Lax",
    );
    expect(readAfterCookie("0/3000148", true)).toMatch(/; Secure$/);
  });
});
