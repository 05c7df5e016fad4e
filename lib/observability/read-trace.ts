import "server-only";
import { z } from "zod";
import { env } from "@/lib/env.mjs";
import type { TraceSpan } from "@/lib/observability/critical-path";
import { tracingState } from "@/lib/observability/tracing/state.mjs";

const jaegerTag = z.object({ key: z.string(), value: z.union([z.string(), z.number(), z.boolean()]) });
const jaegerTrace = z.object({
  data: z.array(
    z.object({
      spans: z.array(
        z.object({
          traceID: z.string(),
          spanID: z.string(),
          operationName: z.string(),
          references: z.array(z.object({ refType: z.string(), spanID: z.string() })).default([]),
          startTime: z.number(),
          duration: z.number(),
          tags: z.array(jaegerTag).default([]),
          processID: z.string(),
        }),
      ),
      processes: z.record(z.string(), z.object({ serviceName: z.string() })),
    }),
  ),
});

const KINDS = new Set<TraceSpan["kind"]>(["server", "client", "internal", "producer", "consumer"]);

/** Jaeger's query API (`GET /api/traces/{id}`, also served by Tempo): times in microseconds, attributes as tags. */
async function fromQueryApi(baseUrl: string, traceId: string): Promise<TraceSpan[] | undefined> {
  const response = await fetch(new URL(`api/traces/${traceId}`, baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`), {
    signal: AbortSignal.timeout(5_000),
  });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`the trace query API answered ${response.status}`);
  const trace = jaegerTrace.parse(await response.json()).data[0];
  if (!trace) return undefined;
  return trace.spans.map((span) => {
    const attributes = Object.fromEntries(span.tags.map(({ key, value }) => [key, value]));
    const kind = String(attributes["span.kind"] ?? "internal") as TraceSpan["kind"];
    return {
      traceId: span.traceID,
      spanId: span.spanID,
      parentSpanId: span.references.find((reference) => reference.refType === "CHILD_OF")?.spanID,
      name: span.operationName,
      kind: KINDS.has(kind) ? kind : "internal",
      service: trace.processes[span.processID]?.serviceName ?? "unknown",
      startMs: span.startTime / 1000,
      durationMs: span.duration / 1000,
      attributes,
      status: attributes.error === true ? "error" : attributes["otel.status_code"] === "OK" ? "ok" : "unset",
    };
  });
}

/** A trace's spans: from TRACE_QUERY_URL when set, else from this process's recent traces; undefined if unknown. */
export async function readTrace(traceId: string): Promise<TraceSpan[] | undefined> {
  if (env.TRACE_QUERY_URL) return fromQueryApi(env.TRACE_QUERY_URL, traceId);
  return tracingState()?.traces.trace(traceId);
}
