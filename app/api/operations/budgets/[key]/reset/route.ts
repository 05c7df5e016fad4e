import { route } from "@/lib/api/handler";
import { resetPerformanceBudget } from "@/lib/observability/reset-performance-budget";

/** Puts an operation's performance budget back to its SLA bound, recorded in its history with the admin's address. */
export const POST = route<{ key: string }>(["admin"], async ({ params, user }) =>
  Response.json(await resetPerformanceBudget(params.key, user.address)),
);
