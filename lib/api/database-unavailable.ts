import { ApiError } from "@/lib/api/errors";

// What pg and Prisma's pg adapter report when the server is away, not when a query is wrong. SQLSTATE class 08 is
// "connection exception"; 57P01-57P03 are shutdown and start-up; 53300 is a full connection table.
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH"]);
const SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300"]);
const PRISMA_CODES = new Set(["P1001", "P1002", "P1017", "P2024"]);
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);
// pg raises these without a code when a connection dies or cannot be made in time.
const PG_MESSAGES = new Set([
  "Connection terminated unexpectedly",
  "Connection terminated",
  "Connection terminated due to connection timeout",
  "timeout exceeded when trying to connect",
  "Client has encountered a connection error and is not queryable",
]);

export const DATABASE_RETRY_AFTER_SECONDS = 5;

type Inspectable = {
  name?: unknown;
  code?: unknown;
  kind?: unknown;
  originalCode?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: { cause?: unknown } };
  errors?: unknown;
};

// Prisma wraps the adapter's error (meta.driverAdapterError, whose cause carries the kind), except inside an
// interactive transaction, where the adapter's error arrives bare; pg may raise an AggregateError of one error per
// address tried. Other causes are not followed: a failed fetch to the chain's RPC node also carries ECONNREFUSED in
// its cause.
function reported(error: unknown): Inspectable[] {
  if (!error || typeof error !== "object") return [];
  const value = error as Inspectable;
  const adapter = value.meta?.driverAdapterError ?? (value.name === "DriverAdapterError" ? value : undefined);
  const each = Array.isArray(value.errors) ? (value.errors as Inspectable[]) : [];
  return [value, ...(adapter ? [adapter, adapter.cause as Inspectable] : []), ...each].filter(Boolean);
}

/** True when the error says the database could not be reached or dropped the connection; never for a bad query. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return reported(error).some(({ code, kind, originalCode, message }) => {
    const sqlstate = typeof code === "string" ? code : typeof originalCode === "string" ? originalCode : "";
    return (
      SOCKET_CODES.has(sqlstate) ||
      SQLSTATES.has(sqlstate) ||
      /^08[0-9A-Z]{3}$/.test(sqlstate) ||
      PRISMA_CODES.has(sqlstate) ||
      (typeof kind === "string" && ADAPTER_KINDS.has(kind)) ||
      (typeof message === "string" && PG_MESSAGES.has(message))
    );
  });
}

export function databaseUnavailable(): ApiError {
  return new ApiError(
    "service_unavailable",
    "The database cannot be reached right now. Please try again shortly.",
    undefined,
    { "retry-after": String(DATABASE_RETRY_AFTER_SECONDS) },
  );
}
