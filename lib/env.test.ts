import { describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/env.mjs";

describe("parseEnv", () => {
  it("defaults to the embedded engine on a loopback port", () => {
    const env = parseEnv({});
    expect(env.database).toMatchObject({
      embedded: true,
      url: "postgresql://postgres:postgres@127.0.0.1:54329/postgres",
    });
    expect(env.database.readUrl).toBe(env.database.url);
    expect(env.DEMO_DATA).toBe(true);
  });

  it("uses real servers when configured, with a separate read replica", () => {
    const env = parseEnv({
      DATABASE_URL: "postgresql://app@db:5432/gl",
      DATABASE_READ_URL: "postgresql://app@replica:5432/gl",
      REDIS_URL: "redis://cache:6379",
      ADMIN_ADDRESSES: "0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    });
    expect(env.database).toMatchObject({
      embedded: false,
      url: "postgresql://app@db:5432/gl",
      readUrl: "postgresql://app@replica:5432/gl",
      analyticsUrl: "postgresql://app@db:5432/gl",
    });
    expect(env.ADMIN_ADDRESSES).toEqual(["0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"]);
  });

  it("refuses a bad configuration and says which variable is wrong", () => {
    expect(() => parseEnv({ PORT: "http", SESSION_SECRET: "short" })).toThrow(/PORT[\s\S]*SESSION_SECRET/);
    expect(() => parseEnv({ DATABASE_URL: "not a url" })).toThrow(/DATABASE_URL/);
  });
});
