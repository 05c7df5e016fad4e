import {
  type Attributes,
  type Context,
  type HrTime,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from "@opentelemetry/api";
import { AlwaysOnSampler, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { afterEach, describe, expect, it, vi } from "vitest";
import { operationOf, RecentTraces } from "@/lib/observability/tracing/recent-traces.mjs";

const T0 = Date.parse("2026-03-01T12:00:00.000Z");
const MINUTE = 60_000;

/** `ms` after T0 as an HrTime, which keeps fractions of a millisecond (a Date would not). */
const at = (ms: number): HrTime => {
  const total = T0 + ms;
  return [Math.floor(total / 1000), Math.round((total % 1000) * 1e6)];
};

/** A RecentTraces fed by a real tracer that samples everything. */
function recorded() {
  const traces = new RecentTraces();
  const provider = new NodeTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [traces] });
  const tracer = provider.getTracer("t");
  /** Starts a span at `startMs` after T0, under `parent` (a span, or a context such as a remote caller's). */
  const start = (
    name: string,
    startMs: number,
    parent?: Span | Context,
    options: { kind?: SpanKind; attributes?: Attributes } = {},
  ) => {
    const context =
      parent === undefined ? ROOT_CONTEXT : "spanContext" in parent ? trace.setSpan(ROOT_CONTEXT, parent) : parent;
    return tracer.startSpan(name, { ...options, startTime: at(startMs) }, context);
  };
  const end = (span: Span, endMs: number) => span.end(at(endMs));
  /** A root span alone, from 0 to `durationMs`. */
  const root = (name: string, durationMs: number) => {
    const span = start(name, 0);
    end(span, durationMs);
    return span.spanContext().traceId;
  };
  return { traces, start, end, root };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("RecentTraces' kept traces", () => {
  it("keeps a root and its two children, converted to trace spans", () => {
    const { traces, start, end } = recorded();
    const root = start("GET /api/verify/:id", 0, undefined, {
      kind: SpanKind.SERVER,
      attributes: { "http.request.method": "GET", "http.response.status_code": 200, cached: false, tags: ["a", "b"] },
    });
    const query = start("pg.query:SELECT greenledger", 5, root, {
      kind: SpanKind.CLIENT,
      attributes: { "db.query.text": "SELECT * FROM batches WHERE id = $1" },
    });
    const render = start("render", 30, root);
    end(query, 25.5);
    render.setStatus({ code: SpanStatusCode.ERROR });
    end(render, 40);
    end(root, 42);

    const { traceId, spanId: rootId } = root.spanContext();
    const spans = traces.trace(traceId);
    expect(spans).toHaveLength(3);
    const byName = new Map(spans?.map((span) => [span.name, span]));
    expect(byName.get("GET /api/verify/:id")).toEqual({
      traceId,
      spanId: rootId,
      parentSpanId: undefined,
      name: "GET /api/verify/:id",
      kind: "server",
      service: expect.any(String),
      startMs: T0,
      durationMs: 42,
      // The array attribute is dropped: a trace span's attributes are scalars.
      attributes: { "http.request.method": "GET", "http.response.status_code": 200, cached: false },
      status: "unset",
    });
    expect(byName.get("pg.query:SELECT greenledger")).toMatchObject({
      spanId: query.spanContext().spanId,
      parentSpanId: rootId,
      kind: "client",
      startMs: T0 + 5,
      durationMs: 20.5,
      attributes: { "db.query.text": "SELECT * FROM batches WHERE id = $1" },
    });
    expect(byName.get("render")).toMatchObject({
      parentSpanId: rootId,
      kind: "internal",
      durationMs: 10,
      status: "error",
    });
    expect(traces.slowest(10)).toEqual([
      { traceId, rootName: "GET /api/verify/:id", durationMs: 42, endedAt: expect.any(String), spans: 3 },
    ]);
  });

  it("adds a child that ends after its root to the kept trace", () => {
    const { traces, start, end } = recorded();
    const root = start("POST /api/crop-batches", 0);
    const notify = start("notify", 10, root);
    end(root, 20);
    const { traceId } = root.spanContext();
    expect(traces.trace(traceId)?.map(({ name }) => name)).toEqual(["POST /api/crop-batches"]);

    end(notify, 500);
    expect(traces.trace(traceId)?.map(({ name }) => name)).toEqual(["POST /api/crop-batches", "notify"]);
    expect(traces.slowest(1)[0]).toMatchObject({ traceId, durationMs: 20, spans: 2 });
  });

  it("keeps each trace apart", () => {
    const { traces, root } = recorded();
    const first = root("first", 10);
    const second = root("second", 20);
    expect(traces.trace(first)?.map(({ name }) => name)).toEqual(["first"]);
    expect(traces.trace(second)?.map(({ name }) => name)).toEqual(["second"]);
    expect(traces.trace("0".repeat(32))).toBeUndefined();
  });

  it("takes a span whose parent is remote for the local root", () => {
    const { traces, start, end } = recorded();
    const caller = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", isRemote: true };
    const remote = trace.setSpanContext(ROOT_CONTEXT, { ...caller, traceFlags: TraceFlags.SAMPLED });
    const root = start("GET /api/verify/:id", 0, remote, { kind: SpanKind.SERVER });
    const child = start("redis GET", 1, root, { kind: SpanKind.CLIENT });
    end(child, 3);
    end(root, 8);

    expect(traces.trace(caller.traceId)?.map(({ name, parentSpanId }) => [name, parentSpanId])).toEqual([
      ["redis GET", root.spanContext().spanId],
      ["GET /api/verify/:id", caller.spanId],
    ]);
    expect(traces.slowest(5)).toEqual([
      expect.objectContaining({ traceId: caller.traceId, rootName: "GET /api/verify/:id", durationMs: 8, spans: 2 }),
    ]);
  });

  it("keeps a span whose parent is local but not here pending, not as a finished trace", () => {
    const { traces, start, end } = recorded();
    const local = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", isRemote: false };
    const parent = trace.setSpanContext(ROOT_CONTEXT, { ...local, traceFlags: TraceFlags.SAMPLED });
    end(start("inner", 0, parent), 8);

    expect(traces.slowest(5)).toEqual([]);
    expect(traces.trace(local.traceId)?.map(({ name }) => name)).toEqual(["inner"]);
  });
});

describe("RecentTraces' slowest", () => {
  it("lists the slowest traces first, as many as asked", () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0 + MINUTE);
    const { traces, root } = recorded();
    const fast = root("fast", 30);
    const slow = root("slow", 100);
    const middle = root("middle", 50);

    expect(traces.slowest(2)).toEqual([
      { traceId: slow, rootName: "slow", durationMs: 100, endedAt: new Date(T0 + MINUTE).toISOString(), spans: 1 },
      { traceId: middle, rootName: "middle", durationMs: 50, endedAt: new Date(T0 + MINUTE).toISOString(), spans: 1 },
    ]);
    expect(traces.slowest(10).map(({ traceId }) => traceId)).toEqual([slow, middle, fast]);
  });

  it("forgets traces that ended more than 15 minutes ago", () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    const { traces, root } = recorded();
    const old = root("old and slow", 900);
    vi.setSystemTime(T0 + 10 * MINUTE);
    const recent = root("recent", 40);

    vi.setSystemTime(T0 + 15 * MINUTE);
    expect(traces.slowest(5).map(({ traceId }) => traceId)).toEqual([old, recent]);
    vi.setSystemTime(T0 + 15 * MINUTE + 1);
    expect(traces.slowest(5).map(({ traceId }) => traceId)).toEqual([recent]);
    vi.setSystemTime(T0 + 26 * MINUTE);
    expect(traces.slowest(5)).toEqual([]);
  });
});

describe("RecentTraces' expected durations", () => {
  it("learns P50, P99 and the sample count per operation from the spans' durations", () => {
    const { traces, root } = recorded();
    for (const durationMs of [300, 10, 20]) root("GET /api/health", durationMs);
    expect(traces.expected("GET /api/health")).toEqual({ p50Ms: 20, p99Ms: 300, samples: 3 });
    // 1 to 101 ms, in reverse: the median is the 51st, P99 the 100th (99 % of 101 is 99.99).
    for (let durationMs = 101; durationMs >= 1; durationMs -= 1) root("GET /api/verify/:id", durationMs);
    expect(traces.expected("GET /api/verify/:id")).toEqual({ p50Ms: 51, p99Ms: 100, samples: 101 });
    expect(traces.expected("never seen")).toBeUndefined();
  });

  it("learns a database span under its statement, whichever attribute holds it, and other spans under their name", () => {
    const { traces, start, end } = recorded();
    const root = start("GET /api/verify/:id", 0);
    const name = "pg.query:SELECT greenledger";
    const current = start(name, 1, root, { attributes: { "db.query.text": "SELECT 1 FROM batches" } });
    const legacy = start(name, 1, root, { attributes: { "db.statement": "SELECT 2 FROM lots" } });
    const both = start(name, 1, root, { attributes: { "db.query.text": "SELECT 3", "db.statement": "SELECT old" } });
    const plain = start(name, 1, root);
    end(current, 5);
    end(legacy, 9);
    end(both, 7);
    end(plain, 3);
    end(root, 12);

    const converted = traces.trace(root.spanContext().traceId) ?? [];
    const operation = (span: Span) => {
      const found = converted.find(({ spanId }) => spanId === span.spanContext().spanId);
      return found && operationOf(found);
    };
    expect([current, legacy, both, plain].map(operation)).toEqual([
      "SELECT 1 FROM batches",
      "SELECT 2 FROM lots",
      "SELECT 3",
      name,
    ]);
    expect(traces.expected("SELECT 1 FROM batches")).toEqual({ p50Ms: 4, p99Ms: 4, samples: 1 });
    expect(traces.expected("SELECT 2 FROM lots")).toEqual({ p50Ms: 8, p99Ms: 8, samples: 1 });
    expect(traces.expected("SELECT 3")).toEqual({ p50Ms: 6, p99Ms: 6, samples: 1 });
    expect(traces.expected("SELECT old")).toBeUndefined();
    expect(traces.expected(name)).toEqual({ p50Ms: 2, p99Ms: 2, samples: 1 });
    expect(traces.expected("GET /api/verify/:id")).toEqual({ p50Ms: 12, p99Ms: 12, samples: 1 });
  });

  it("remembers only the latest 256 durations of an operation", () => {
    const { traces, root } = recorded();
    for (let index = 0; index < 256; index += 1) root("loop", 1_000);
    for (let index = 0; index < 256; index += 1) root("loop", 1);
    expect(traces.expected("loop")).toEqual({ p50Ms: 1, p99Ms: 1, samples: 256 });
  });
});
