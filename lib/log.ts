import { context, trace } from "@opentelemetry/api";
import pino from "pino";
import { env } from "@/lib/env.mjs";

/** A line written inside a sampled trace carries its ids, so a log search leads to the trace and back. */
function traceIds(): object {
  const span = trace.getSpan(context.active());
  // A new object each time: pino merges the line's own fields into it.
  if (!span?.isRecording()) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

export const log = pino({ level: env.LOG_LEVEL, base: { app: "greenledger" }, mixin: traceIds });
