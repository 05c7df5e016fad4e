// Plain JavaScript: the tracing preload (register.mjs) runs before any TypeScript loader.
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";

/** @typedef {import("@/lib/observability/critical-path").TraceSpan} TraceSpan */
/** @typedef {import("@opentelemetry/sdk-trace-node").SpanProcessor} SpanProcessor */
/** @typedef {{ traceId: string; rootName: string; durationMs: number; endedAt: number; spans: TraceSpan[] }} KeptTrace */

/** @type {Record<number, TraceSpan["kind"]>} */
const KINDS = {
  [SpanKind.SERVER]: "server",
  [SpanKind.CLIENT]: "client",
  [SpanKind.INTERNAL]: "internal",
  [SpanKind.PRODUCER]: "producer",
  [SpanKind.CONSUMER]: "consumer",
};

/** @param {import("@opentelemetry/api").HrTime} time */
const millis = ([seconds, nanos]) => seconds * 1000 + nanos / 1e6;

/** @param {import("@opentelemetry/sdk-trace-node").ReadableSpan} span @returns {TraceSpan} */
export function toTraceSpan(span) {
  const { traceId, spanId } = span.spanContext();
  /** @type {TraceSpan["attributes"]} */
  const attributes = {};
  for (const [key, value] of Object.entries(span.attributes)) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") attributes[key] = value;
  }
  return {
    traceId,
    spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    kind: KINDS[span.kind] ?? "internal",
    service: String(span.resource.attributes["service.name"] ?? "greenledger"),
    startMs: millis(span.startTime),
    durationMs: millis(span.duration),
    attributes,
    status:
      span.status.code === SpanStatusCode.ERROR ? "error" : span.status.code === SpanStatusCode.OK ? "ok" : "unset",
  };
}

/**
 * What a span's usual duration is learned under: its statement for a database call (every query of pg's is named
 * `pg.query:SELECT <db>`), else its name.
 * @param {TraceSpan} span
 */
export function operationOf(span) {
  const statement = span.attributes["db.query.text"] ?? span.attributes["db.statement"];
  return typeof statement === "string" ? statement : span.name;
}

const PENDING_TRACES = 2_000;
const LATEST_KEPT = 200;
const SLOWEST_KEPT = 50;
const SLOWEST_FOR_MS = 15 * 60_000;
const DURATIONS_KEPT = 256;
const OPERATIONS_KEPT = 500;

/**
 * The sampled traces this process saw, for the critical-path analysis without a trace store: the latest ones, the
 * slowest of the last 15 minutes, and each span name's recent durations (what a span is expected to take).
 * @implements {SpanProcessor}
 */
export class RecentTraces {
  /** @type {Map<string, TraceSpan[]>} spans of traces whose local root has not ended yet */
  #pending = new Map();
  /** @type {Map<string, KeptTrace>} */
  #latest = new Map();
  /** @type {KeptTrace[]} */
  #slowest = [];
  /** @type {Map<string, number[]>} */
  #durations = new Map();

  onStart() {}

  /** @param {import("@opentelemetry/sdk-trace-node").ReadableSpan} readable */
  onEnd(readable) {
    const span = toTraceSpan(readable);
    this.#learn(span);
    const kept = this.#latest.get(span.traceId) ?? this.#slowest.find((trace) => trace.traceId === span.traceId);
    // A span that ends after its trace's root (work the answer did not wait for) joins the trace kept.
    if (kept) {
      kept.spans.push(span);
      return;
    }
    const spans = this.#pending.get(span.traceId) ?? [];
    spans.push(span);
    this.#pending.set(span.traceId, spans);
    if (this.#pending.size > PENDING_TRACES) this.#pending.delete(this.#pending.keys().next().value ?? "");
    if (!readable.parentSpanContext || readable.parentSpanContext.isRemote) this.#keep(span, spans);
  }

  /** @param {TraceSpan} root @param {TraceSpan[]} spans */
  #keep(root, spans) {
    this.#pending.delete(root.traceId);
    const trace = {
      traceId: root.traceId,
      rootName: root.name,
      durationMs: root.durationMs,
      endedAt: Date.now(),
      spans,
    };
    this.#latest.set(trace.traceId, trace);
    if (this.#latest.size > LATEST_KEPT) this.#latest.delete(this.#latest.keys().next().value ?? "");
    const since = trace.endedAt - SLOWEST_FOR_MS;
    this.#slowest = this.#slowest.filter((kept) => kept.endedAt >= since);
    this.#slowest.push(trace);
    this.#slowest.sort((a, b) => b.durationMs - a.durationMs);
    this.#slowest.length = Math.min(this.#slowest.length, SLOWEST_KEPT);
  }

  /** @param {TraceSpan} span */
  #learn(span) {
    const operation = operationOf(span);
    let durations = this.#durations.get(operation);
    if (!durations) {
      if (this.#durations.size >= OPERATIONS_KEPT) return;
      durations = [];
      this.#durations.set(operation, durations);
    }
    durations.push(span.durationMs);
    if (durations.length > DURATIONS_KEPT) durations.shift();
  }

  /** @param {string} traceId @returns {TraceSpan[] | undefined} */
  trace(traceId) {
    const kept = this.#latest.get(traceId) ?? this.#slowest.find((trace) => trace.traceId === traceId);
    return kept?.spans ?? this.#pending.get(traceId);
  }

  /** The slowest traces of the last 15 minutes, slowest first. @param {number} count */
  slowest(count) {
    const since = Date.now() - SLOWEST_FOR_MS;
    return this.#slowest
      .filter((trace) => trace.endedAt >= since)
      .slice(0, count)
      .map(({ traceId, rootName, durationMs, endedAt, spans }) => ({
        traceId,
        rootName,
        durationMs,
        endedAt: new Date(endedAt).toISOString(),
        spans: spans.length,
      }));
  }

  /** What spans of this operation (`operationOf`) took lately. @param {string} operation */
  expected(operation) {
    const durations = this.#durations.get(operation);
    if (!durations?.length) return undefined;
    const sorted = [...durations].sort((a, b) => a - b);
    const at = (/** @type {number} */ q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return { p50Ms: at(0.5), p99Ms: at(0.99), samples: sorted.length };
  }

  forceFlush() {
    return Promise.resolve();
  }

  shutdown() {
    return Promise.resolve();
  }
}
