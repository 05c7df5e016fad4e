import { DriverAdapterError } from "@prisma/driver-adapter-utils";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "@/lib/api/database-unavailable";
import { errorResponse } from "@/lib/api/handler";
import { Prisma } from "@/lib/generated/prisma/client";
import { freePort } from "@/scripts/free-port.mjs";

// As Prisma reports an adapter error (seen against a real PostgreSQL 15 that was stopped or killed).
function prismaError(code: string, cause: ConstructorParameters<typeof DriverAdapterError>[0]) {
  return new Prisma.PrismaClientKnownRequestError("Raw query failed.", {
    code,
    clientVersion: "7.10.0",
    meta: { driverAdapterError: new DriverAdapterError(cause) },
  });
}

function postgresError(code: string, message: string) {
  const fields = { detail: undefined, column: undefined, hint: undefined };
  return prismaError("P2010", { kind: "postgres", code, severity: "FATAL", message, ...fields, originalCode: code });
}

describe("isDatabaseUnavailable", () => {
  it("recognises a refused connection from pg itself", async () => {
    const client = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${await freePort()}/postgres` });
    const error = await client.connect().catch((caught: unknown) => caught);
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it("recognises Prisma's reports of an unreachable, closed or shut-down server", () => {
    for (const error of [
      prismaError("P2010", { kind: "DatabaseNotReachable", host: "127.0.0.1", port: 5432 }),
      prismaError("P1001", { kind: "DatabaseNotReachable", host: "127.0.0.1", port: 5432 }),
      prismaError("P2010", { kind: "ConnectionClosed" }),
      // A statement of an interactive transaction whose connection died (seen in the kill -9 crash test).
      new DriverAdapterError({ kind: "ConnectionClosed" }),
      postgresError("57P01", "terminating connection due to administrator command"),
      postgresError("57P03", "the database system is starting up"),
      postgresError("08006", "connection failure"),
      Object.assign(new Error("pool timeout"), { code: "P2024" }),
      new Error("Connection terminated unexpectedly"),
      new Error("timeout exceeded when trying to connect"),
    ]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(true);
    }
  });

  it("does not take a bug or a bad query for an outage", () => {
    for (const error of [
      postgresError("42601", 'syntax error at or near "selec"'),
      postgresError("57014", "canceling statement due to statement timeout"),
      prismaError("P2002", { kind: "UniqueConstraintViolation", constraint: { fields: ["client_id"] } }),
      new TypeError("Cannot read properties of undefined (reading 'tokenId')"),
      // A failed call to the chain's RPC node carries ECONNREFUSED only in its cause.
      new TypeError("fetch failed", {
        cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      }),
      "ECONNREFUSED",
      null,
    ]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(false);
    }
  });
});

describe("errorResponse", () => {
  it("answers an outage 503 service_unavailable with Retry-After, and a bug 500", async () => {
    const outage = errorResponse(postgresError("57P01", "terminating connection due to administrator command"));
    expect(outage.status).toBe(503);
    expect(outage.headers.get("retry-after")).toBe("5");
    expect(await outage.json()).toEqual({
      error: { code: "service_unavailable", message: expect.stringContaining("database") },
    });
    const bug = errorResponse(postgresError("42601", "syntax error"));
    expect(bug.status).toBe(500);
    expect((await bug.json()).error.code).toBe("internal_error");
  });
});
