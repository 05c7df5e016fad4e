import type http from "node:http";
import {
  type Attributes,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { log } from "@/lib/log";
import { LATENCY_BUCKETS } from "@/lib/metrics/buckets.mjs";
import { routeLabel } from "@/lib/metrics/route-label";
import { tracingState } from "@/lib/observability/tracing/state.mjs";

const tracer = trace.getTracer("greenledger");
const requestSpans = new WeakMap<
  http.ServerResponse,
  { span: Span; start: bigint; method: string; pathname: string }
>();

/** A request's trace, if it is sampled: a propagated `traceparent` decides (parent-based), else the sampler rolls. */
function startRequestSpan(request: http.IncomingMessage, method: string) {
  const state = tracingState();
  if (!state) return undefined;
  const parent = request.headers.traceparent ? propagation.extract(ROOT_CONTEXT, request.headers) : ROOT_CONTEXT;
  if (!state.sampler.admit(trace.getSpanContext(parent))) return undefined;
  const pathname = (request.url ?? "/").split("?")[0] ?? "/";
  const span = tracer.startSpan(
    method,
    { kind: SpanKind.SERVER, attributes: { "http.request.method": method, "url.path": pathname } },
    parent,
  );
  return { span, pathname, context: trace.setSpan(parent, span) };
}

/**
 * Answers inside a server span when the request is sampled, and pays for nothing more than a random number when it
 * is not.
 */
export function traceRequest<T>(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  answer: (request: http.IncomingMessage, response: http.ServerResponse) => T,
): T {
  const method = request.method ?? "GET";
  const started = startRequestSpan(request, method);
  if (!started) return answer(request, response);
  const { span, pathname } = started;
  requestSpans.set(response, { span, start: process.hrtime.bigint(), method, pathname });
  response.once("finish", () => endRequestSpan(response));
  response.once("close", () => endRequestSpan(response));
  return context.with(started.context, answer, undefined, request, response);
}

/** Ends the request's span, if it has one: when its answer is sent, or once a live stream is connected. */
export function endRequestSpan(response: http.ServerResponse): void {
  const traced = requestSpans.get(response);
  if (!traced) return;
  requestSpans.delete(response);
  const { span, start, method, pathname } = traced;
  const status = response.statusCode;
  const route = routeLabel(pathname, status);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  span.updateName(`${method} ${route}`);
  span.setAttributes({ "http.route": route, "http.response.status_code": status });
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
  const { traceId, spanId } = span.spanContext();
  recordExemplar(`${method} ${route}`, seconds, traceId);
  log.info({ trace_id: traceId, span_id: spanId, method, route, status, ms: seconds * 1000 }, "request traced");
}

/**
 * The latest sampled trace in each latency bucket of a request series (`GET /api/verify/:id`): what links a slow
 * bucket of gl_http_request_duration_seconds to a trace that shows why.
 */
function recordExemplar(series: string, seconds: number, traceId: string): void {
  const exemplars = tracingState()?.exemplars;
  if (!exemplars) return;
  const bucket = LATENCY_BUCKETS.find((bound) => seconds <= bound) ?? Number.POSITIVE_INFINITY;
  const buckets = exemplars.get(series) ?? new Map();
  buckets.set(bucket, { traceId, seconds, at: Date.now() });
  exemplars.set(series, buckets);
}

/** Runs `work` in `span`, which ends with it and is marked failed if it throws. */
async function within<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

/** A child span around `work`, only inside a sampled trace (a query, a cache read, a chain call). */
export async function inSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  if (!trace.getSpan(context.active())?.isRecording()) return work();
  return tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, (span) => within(span, work));
}

/** A root span around one turn of a background loop (the relayer's, the indexer's), sampled at the current ratio. */
export async function inLoopSpan<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (!tracingState()?.sampler.admit(undefined)) return work();
  return tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL }, ROOT_CONTEXT, (span) => within(span, work));
}
