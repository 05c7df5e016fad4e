import "server-only";
import { ApiError } from "@/lib/api/errors";
import { env } from "@/lib/env.mjs";
import { analyzeTrace, criticalPath, type TraceAnalysis, type TraceSpan } from "@/lib/observability/critical-path";
import { explainStatement } from "@/lib/observability/explain-statement";
import { readTrace } from "@/lib/observability/read-trace";
import { matchesLabels, slaTable } from "@/lib/observability/sla";
import { adviseSpan, type PlanNode, postgresStatement } from "@/lib/observability/trace-advice";
import { operationOf } from "@/lib/observability/tracing/recent-traces.mjs";
import { tracingState } from "@/lib/observability/tracing/state.mjs";

const TRACE_ID = /^[0-9a-f]{32}$/;
// Each analysis explains at most this many statements, the ones on the critical path.
const PLANS_PER_TRACE = 5;

/** A request the cache sits in front of (a verification): a database read in it is a cache miss. */
function behindCache(spans: TraceSpan[]): boolean {
  const verification = slaTable(env.slaBounds).find(({ key }) => key === "verification");
  return spans.some(
    (span) =>
      span.kind === "server" &&
      verification !== undefined &&
      matchesLabels(verification, {
        route: String(span.attributes["http.route"] ?? ""),
        method: String(span.attributes["http.request.method"] ?? ""),
      }),
  );
}

/** The critical path of a trace's spans, its bottlenecks against each span's recent durations, and what to do. */
export async function analyzeSpans(spans: TraceSpan[]): Promise<TraceAnalysis> {
  const onPath = new Set(criticalPath(spans).map(({ spanId }) => spanId));
  const statements = [
    ...new Set(spans.filter((span) => onPath.has(span.spanId)).flatMap((span) => postgresStatement(span) ?? [])),
  ].slice(0, PLANS_PER_TRACE);
  const plans = new Map<string, PlanNode | null>(
    await Promise.all(statements.map(async (statement) => [statement, await explainStatement(statement)] as const)),
  );
  const cacheable = behindCache(spans);
  const traces = tracingState()?.traces;
  return analyzeTrace(
    spans,
    (span) => traces?.expected(operationOf(span)),
    (span, onPathMs) => {
      const statement = postgresStatement(span);
      return adviseSpan(span, { plan: (statement && plans.get(statement)) || undefined, cacheable, onPathMs });
    },
  );
}

/** The analysis of one trace, from TRACE_QUERY_URL or this process's recent traces. */
export async function analyzeTraceById(traceId: string): Promise<TraceAnalysis> {
  if (!TRACE_ID.test(traceId)) {
    throw new ApiError("bad_request", "A trace id is 32 lowercase hexadecimal characters.", [
      { path: "traceId", message: "Expected 32 characters 0-9 a-f" },
    ]);
  }
  const spans = await readTrace(traceId);
  if (!spans?.length) {
    throw new ApiError(
      "not_found",
      env.TRACE_QUERY_URL
        ? "The trace query API has no trace with this id."
        : "This instance kept no trace with this id: it keeps its latest 200 sampled traces and the slowest of the last 15 minutes. Set TRACE_QUERY_URL to read a trace store.",
    );
  }
  return analyzeSpans(spans);
}
