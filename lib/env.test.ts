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

  it("runs the embedded chain by default and requires the full set for a real one", () => {
    expect(parseEnv({}).chain).toMatchObject({ embedded: true, chainId: 31337, rpcUrl: "http://127.0.0.1:58545" });
    expect(() => parseEnv({ CHAIN_RPC_URL: "https://rpc.example.org" })).toThrow(
      /CHAIN_ID: is required[\s\S]*CROP_BATCH_ADDRESS: is required[\s\S]*RELAYER_PRIVATE_KEY: is required/,
    );
    const real = parseEnv({
      CHAIN_RPC_URL: "https://rpc.example.org",
      CHAIN_ID: "11155111",
      CROP_BATCH_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      CHAIN_START_BLOCK: "123",
      RELAYER_PRIVATE_KEY: `0x${"1".repeat(64)}`,
    });
    expect(real.chain).toMatchObject({
      embedded: false,
      chainId: 11155111,
      contract: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
      startBlock: 123n,
      confirmations: 12,
    });
  });

  it("refuses the well-known development keys on a real chain", () => {
    const anvilAccount0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    expect(() =>
      parseEnv({
        CHAIN_RPC_URL: "https://rpc.example.org",
        CHAIN_ID: "1",
        CROP_BATCH_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        RELAYER_PRIVATE_KEY: anvilAccount0,
      }),
    ).toThrow(/RELAYER_PRIVATE_KEY: is a well-known development key/);
  });

  it("sets SLA bounds in ms, each one a bucket of its histogram, and names the problem otherwise", () => {
    expect(parseEnv({}).slaBounds).toEqual({
      verification: 0.15,
      search: 0.3,
      tracking: 0.05,
      chain_sync: 15,
      upload: 5,
      api: 0.1,
    });
    expect(parseEnv({ SLA_BOUNDS_MS: " verification=75 , chain_sync=30000" }).slaBounds).toMatchObject({
      verification: 0.075,
      chain_sync: 30,
      search: 0.3,
    });
    expect(() => parseEnv({ SLA_BOUNDS_MS: "search=250,checkout=100" })).toThrow(
      /SLA_BOUNDS_MS: search=250 is not a bucket of its histogram \(ms: [\d., ]*200, 300[\d., ]*\)[\s\S]*"checkout=100" is not <sla>=<milliseconds>/,
    );
  });

  // What every instance of a many-instance install shares.
  const shared = {
    DATABASE_URL: "postgresql://app@db:5432/gl",
    REDIS_URL: "redis://cache:6379",
    CHAIN_RPC_URL: "https://rpc.example.org",
    CHAIN_ID: "11155111",
    CROP_BATCH_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  };

  it("sizes the pools by role, so instances add up to a known number of connections", () => {
    expect(parseEnv({})).toMatchObject({ ROLE: "all", DB_POOL_WRITE_MAX: 10, DB_POOL_READ_MAX: 20 });
    const worker = parseEnv({ ...shared, ROLE: "worker", RELAYER_PRIVATE_KEY: `0x${"1".repeat(64)}` });
    expect(worker).toMatchObject({ DB_POOL_WRITE_MAX: 5, DB_POOL_READ_MAX: 2, DB_POOL_ANALYTICS_MAX: 3 });
    expect(parseEnv({ ...shared, ROLE: "web", DB_POOL_READ_MAX: "7" }).DB_POOL_READ_MAX).toBe(7);
  });

  it("runs web and worker only on a shared database, cache and chain; only workers need the relayer's key", () => {
    expect(() => parseEnv({ ROLE: "web" })).toThrow(
      /DATABASE_URL: is required with ROLE=web[\s\S]*REDIS_URL: is required with ROLE=web[\s\S]*CHAIN_RPC_URL: is required/,
    );
    expect(parseEnv({ ...shared, ROLE: "web" }).ROLE).toBe("web");
    expect(() => parseEnv({ ...shared, ROLE: "worker" })).toThrow(/RELAYER_PRIVATE_KEY: is required/);
  });

  it("takes a deployment id for Next's assets, and refuses one that cannot go into a URL", () => {
    expect(parseEnv({ DEPLOYMENT_ID: "3f9c2ab" }).DEPLOYMENT_ID).toBe("3f9c2ab");
    expect(parseEnv({ DEPLOYMENT_ID: "" }).DEPLOYMENT_ID).toBeUndefined();
    expect(() => parseEnv({ DEPLOYMENT_ID: "v1 final" })).toThrow(/DEPLOYMENT_ID/);
  });
});
