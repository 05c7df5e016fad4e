import { ApiError } from "@/lib/api/errors";
import { route } from "@/lib/api/handler";
import { getOperationsReport } from "@/lib/observability/get-operations-report";

/** The operations page's figures, for tools: this instance's SLAs, error rate, chain lag, alerts and budgets. */
export const GET = route(["admin"], async () => {
  const report = await getOperationsReport();
  if (!report) throw new ApiError("service_unavailable", "No SLA monitor runs in this process.");
  return Response.json(report, { headers: { "cache-control": "no-store" } });
});
