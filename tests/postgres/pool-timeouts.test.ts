import { describe, expect, it } from "vitest";
import { pools } from "@/lib/db/client";

// PGlite does not enforce statement_timeout (and shares one connection): this runs on real PostgreSQL only.
describe("database pools", () => {
  it("give each pool its own statement_timeout: read 5 s, write 10 s, analytics 60 s", async () => {
    if (!process.env.TEST_DATABASE_URL) throw new Error("The postgres project needs TEST_DATABASE_URL");
    const timeout = async (name: keyof typeof pools) =>
      (await pools[name].query<{ statement_timeout: string }>("SHOW statement_timeout")).rows[0]?.statement_timeout;
    expect(await timeout("read")).toBe("5s");
    expect(await timeout("write")).toBe("10s");
    expect(await timeout("analytics")).toBe("1min");
  });

  it("cancels a read that runs past its pool's timeout, and the pool keeps serving", async () => {
    const started = Date.now();
    await expect(pools.read.query("SELECT pg_sleep(6)")).rejects.toMatchObject({ code: "57014" });
    expect(Date.now() - started).toBeLessThan(5_900);
    expect((await pools.read.query<{ one: number }>("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  }, 15_000);
});
