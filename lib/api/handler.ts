import { databaseUnavailable, isDatabaseUnavailable } from "@/lib/api/database-unavailable";
import { ApiError } from "@/lib/api/errors";
import { consumeRateLimit } from "@/lib/api/rate-limit";
import { hasOperatorToken } from "@/lib/auth/operator-token";
import { readSession } from "@/lib/auth/session";
import { fenceWrite, readsFromReplica } from "@/lib/db/client";
import { readAfterCookie, readsFor } from "@/lib/db/replica";
import { env } from "@/lib/env.mjs";
import type { Role } from "@/lib/generated/prisma/enums";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics/metrics";
import { getUser } from "@/lib/users/get-user";
import type { UserDto } from "@/lib/users/sign-in-user";

// "operator": an admin's session, or an operator's tool with the METRICS_TOKEN bearer (reads only).
type Access = "public" | "operator" | "signed-in" | readonly Role[];

const secureCookies = env.PUBLIC_BASE_URL.startsWith("https:");

type Context<P> = { request: Request; params: P };
type AuthedContext<P> = Context<P> & { user: UserDto };

type RouteContext<P> = { params: Promise<P> };

function toResponse(error: ApiError): Response {
  return Response.json(error.toBody(), { status: error.status, headers: error.headers });
}

export function errorResponse(error: unknown): Response {
  if (error instanceof ApiError) return toResponse(error);
  // The database being away is not a bug: 503 with Retry-After, which clients (the farmer app's outbox) retry.
  if (isDatabaseUnavailable(error)) {
    metrics.errors.inc({ kind: "database_unavailable" });
    log.warn({ err: error }, "database unavailable");
    return toResponse(databaseUnavailable());
  }
  log.error({ err: error }, "unhandled error in route handler");
  return toResponse(new ApiError("internal_error", "Something went wrong on our side. Please try again."));
}

async function authenticate(request: Request, access: "signed-in" | readonly Role[]): Promise<UserDto> {
  const session = await readSession(request.headers.get("cookie"));
  if (!session) throw new ApiError("unauthorized", "Sign in with your wallet first.");
  const user = await getUser(session.address);
  if (!user) throw new ApiError("unauthorized", "Your session is no longer valid. Sign in again.");
  if (access !== "signed-in" && !access.includes(user.role)) {
    throw new ApiError("forbidden", `This action needs one of these roles: ${access.join(", ")}.`);
  }
  return user;
}

/** Thin handler: access check -> per-session rate limit on writes -> handler -> one error shape. */
export function route<P = Record<string, never>>(
  access: "public" | "operator",
  handler: (context: Context<P>) => Promise<Response>,
): (request: Request, context: RouteContext<P>) => Promise<Response>;
export function route<P = Record<string, never>>(
  access: "signed-in" | readonly Role[],
  handler: (context: AuthedContext<P>) => Promise<Response>,
): (request: Request, context: RouteContext<P>) => Promise<Response>;
export function route<P>(
  access: Access,
  handler: (context: AuthedContext<P>) => Promise<Response>,
): (request: Request, context: RouteContext<P>) => Promise<Response> {
  return async (request, context) => {
    try {
      const params = await context.params;
      const writes = request.method !== "GET" && request.method !== "HEAD";
      // A write's own answer reads from the primary; a read waits for the caller's last write.
      const answer = await readsFor(request.method, request.headers.get("cookie"), async () => {
        if (access === "operator" && !hasOperatorToken(request.headers.get("authorization"))) {
          await authenticate(request, ["admin"]);
        }
        if (access === "public" || access === "operator") {
          return (handler as (c: Context<P>) => Promise<Response>)({ request, params });
        }
        const user = await authenticate(request, access);
        if (writes) await consumeRateLimit("session", user.address);
        return handler({ request, params, user });
      });
      if (writes && readsFromReplica && answer.status < 400) {
        // The caller's next reads, on any instance, wait for this write (lib/db/replica.ts).
        answer.headers.append("set-cookie", readAfterCookie((await fenceWrite()) ?? "0/0", secureCookies));
      }
      return answer;
    } catch (error) {
      return errorResponse(error);
    }
  };
}
