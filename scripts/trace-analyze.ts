// `npm run trace:analyze <traceId> [-- --url <GreenLedger> --json]`: asks a running GreenLedger for a trace's critical
// path and bottlenecks (it reads TRACE_QUERY_URL when set, else the instance's own recent traces) and prints them.
// Authenticates with METRICS_TOKEN, the operators' bearer token.
import { parseArgs } from "node:util";
import { env } from "@/lib/env.mjs";
import type { TraceAnalysis } from "@/lib/observability/critical-path";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { url: { type: "string", default: env.PUBLIC_BASE_URL }, json: { type: "boolean", default: false } },
});
const [traceId] = positionals;
if (!traceId || positionals.length > 1) {
  console.error("usage: npm run trace:analyze <traceId> [-- --url <GreenLedger's URL> --json]");
  process.exit(2);
}
if (!env.METRICS_TOKEN) {
  console.error("Set METRICS_TOKEN to the server's: the analysis is for admins and operators' tools.");
  process.exit(2);
}

const response = await fetch(new URL(`/api/operations/traces/${encodeURIComponent(traceId)}`, values.url), {
  headers: { authorization: `Bearer ${env.METRICS_TOKEN}` },
});
const text = await response.text();
if (!response.ok || !response.headers.get("content-type")?.includes("json")) {
  const message = response.headers.get("content-type")?.includes("json") ? JSON.parse(text).error?.message : undefined;
  console.error(`${values.url} answered ${response.status}: ${message ?? "not GreenLedger's trace analysis"}`);
  process.exit(1);
}
const analysis = JSON.parse(text) as TraceAnalysis;
if (values.json) {
  console.log(JSON.stringify(analysis, null, 2));
  process.exit(0);
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const lines = [
  `trace ${analysis.traceId}: ${analysis.root.name}, ${ms(analysis.root.durationMs)} (${analysis.root.service})`,
  "",
  "critical path:",
  ...analysis.path.map((segment) => `  ${ms(segment.endMs - segment.startMs).padStart(10)}  ${segment.name}`),
  "",
  analysis.bottlenecks.length
    ? "bottlenecks, worst first:"
    : "no span ran slower than usual or held a fifth of the path",
];
analysis.bottlenecks.forEach((bottleneck, index) => {
  const usual =
    bottleneck.expectedMs === undefined
      ? "no usual duration known yet"
      : `${bottleneck.slowdown?.toFixed(1)}x its usual ${ms(bottleneck.expectedMs)}`;
  const marker = bottleneck.span.spanId === analysis.dominant?.span.spanId ? "  <- dominates" : "";
  lines.push(
    `${index + 1}. ${bottleneck.span.name}: ${ms(bottleneck.onPathMs)} on the path (${Math.round(bottleneck.shareOfTrace * 100)} %), ${usual}${marker}`,
    ...bottleneck.recommendations.map((recommendation) => `   - ${recommendation}`),
  );
});
console.log(lines.join("\n"));
