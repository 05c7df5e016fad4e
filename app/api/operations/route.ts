import { ApiError } from "@/lib/api/errors";
import { route } from "@/lib/api/handler";
import { operationsReport } from "@/lib/observability/sla-monitor";

/** The operations page's figures, for tools: this instance's SLAs, error rate, chain lag and alerts. */
export const GET = route(["admin"], async () => {
  const report = operationsReport();
  if (!report) throw new ApiError("service_unavailable", "No SLA monitor runs in this process.");
  return Response.json(report, { headers: { "cache-control": "no-store" } });
});
