import { describe, expect, it } from "vitest";
import {
  analyzeTrace,
  criticalPath,
  type Expected,
  findBottlenecks,
  selfTimeOnPath,
  type TraceSpan,
} from "@/lib/observability/critical-path";

const T0 = 1_765_000_000_000;

/** A span of trace t1 from `startMs` (after T0) lasting `durationMs`, named after its id. */
function span(
  spanId: string,
  parentSpanId: string | undefined,
  startMs: number,
  durationMs: number,
  extra: Partial<TraceSpan> = {},
): TraceSpan {
  return {
    traceId: "t1",
    spanId,
    parentSpanId,
    name: spanId,
    kind: "internal",
    service: "web",
    startMs: T0 + startMs,
    durationMs,
    attributes: {},
    status: "ok",
    ...extra,
  };
}

/** The path as [span, start, end] after T0. */
function path(spans: TraceSpan[]): [string, number, number][] {
  return criticalPath(spans).map(({ spanId, startMs, endMs }) => [spanId, startMs - T0, endMs - T0]);
}

const NONE = () => undefined;
const ADVISE = (span: TraceSpan, onPathMs: number) => [`look at ${span.name} (${onPathMs} ms)`];

describe("the critical path", () => {
  it("goes through sequential children, the parent's time between them its own", () => {
    const spans = [span("root", undefined, 0, 100), span("a", "root", 10, 20), span("b", "root", 40, 30)];
    expect(path([...spans, span("c", "root", 75, 20)])).toEqual([
      ["root", 0, 10],
      ["a", 10, 30],
      ["root", 30, 40],
      ["b", 40, 70],
      ["root", 70, 75],
      ["c", 75, 95],
      ["root", 95, 100],
    ]);
  });

  it("goes through a child that ends exactly when the next one starts", () => {
    expect(path([span("root", undefined, 0, 100), span("a", "root", 0, 40), span("b", "root", 40, 60)])).toEqual([
      ["a", 0, 40],
      ["b", 40, 100],
    ]);
  });

  it("takes a child ending a float rounding after its sibling starts as ending when the sibling starts", () => {
    // T0 + 0.006 + 40.694 is 0.24 us over T0 + 40.7 in doubles.
    const spans = [span("root", undefined, 0, 100), span("a", "root", 0.006, 40.694), span("b", "root", 40.7, 59.3)];
    expect(criticalPath(spans).map((segment) => segment.spanId)).toEqual(["root", "a", "b"]);
    expect(selfTimeOnPath(criticalPath(spans)).get("a")).toBeCloseTo(40.694, 3);
  });

  it("leaves out a parallel child overlapped by the one that ends later, as Jaeger does", () => {
    // Jaeger UI's own case (CriticalPath/testCases/test2): A runs while C starts, so only C is on the path.
    const spans = [span("x", undefined, 1, 100), span("a", "x", 10, 40), span("c", "x", 20, 40)];
    expect(path(spans)).toEqual([
      ["x", 1, 20],
      ["c", 20, 60],
      ["x", 60, 101],
    ]);
    expect(selfTimeOnPath(criticalPath(spans)).has("a")).toBe(false);
  });

  it("clips children to their parent's bounds and drops those outside it", () => {
    const spans = [
      span("root", undefined, 0, 100),
      span("early", "root", -10, 30),
      span("late", "root", 50, 80),
      span("grandchild", "late", 90, 35),
      span("after", "root", 110, 10),
    ];
    expect(path(spans)).toEqual([
      ["early", 0, 20],
      ["root", 20, 50],
      ["late", 50, 90],
      ["grandchild", 90, 100],
    ]);
  });

  it("walks into nested grandchildren and back out", () => {
    const spans = [
      span("root", undefined, 0, 100),
      span("a", "root", 10, 80),
      span("a1", "a", 20, 20),
      span("a2", "a", 50, 30),
      span("a2a", "a2", 55, 20),
    ];
    expect(path(spans)).toEqual([
      ["root", 0, 10],
      ["a", 10, 20],
      ["a1", 20, 40],
      ["a", 40, 50],
      ["a2", 50, 55],
      ["a2a", 55, 75],
      ["a2", 75, 80],
      ["a", 80, 90],
      ["root", 90, 100],
    ]);
    expect(Object.fromEntries(selfTimeOnPath(criticalPath(spans)))).toEqual({
      root: 20,
      a: 30,
      a1: 20,
      a2: 10,
      a2a: 20,
    });
  });

  it("does not wait for the consumer of a producer's message", () => {
    const spans = [
      span("root", undefined, 0, 100, { kind: "server" }),
      span("publish", "root", 10, 10, { kind: "producer" }),
      span("handle", "publish", 15, 80, { kind: "consumer" }),
    ];
    expect(path(spans)).toEqual([
      ["root", 0, 10],
      ["publish", 10, 20],
      ["root", 20, 100],
    ]);
  });

  it("starts at the longest span whose parent is not in the trace", () => {
    const spans = [span("orphan", "missing", 0, 30), span("root", undefined, 0, 50), span("child", "root", 10, 20)];
    expect(path(spans)).toEqual([
      ["root", 0, 10],
      ["child", 10, 30],
      ["root", 30, 50],
    ]);
  });

  it("refuses a trace without spans or without a root", () => {
    expect(() => criticalPath([])).toThrow("Cannot analyze a trace without spans.");
    expect(() => analyzeTrace([span("a", "b", 0, 10), span("b", "a", 0, 10)], NONE, ADVISE)).toThrow(
      "Trace t1 has no root span: every span's parent is in the trace (a cycle).",
    );
  });
});

describe("the bottlenecks of a trace", () => {
  const dbTrace = [
    span("GET /api/batches", undefined, 0, 200, { kind: "server" }),
    span("load", "GET /api/batches", 5, 190),
    span("pg.query:SELECT", "load", 10, 160, { kind: "client", attributes: { "db.system": "postgresql" } }),
    span("redis-get", "load", 172, 8, { kind: "client", attributes: { "db.system": "redis" } }),
  ];

  it("gives the database span that holds most of the path as dominant, with its time on the path", () => {
    const analysis = analyzeTrace(dbTrace, NONE, ADVISE);
    expect(analysis.traceId).toBe("t1");
    expect(analysis.root).toEqual({ name: "GET /api/batches", durationMs: 200, service: "web" });
    expect(analysis.bottlenecks.map(({ span, onPathMs }) => [span.name, onPathMs])).toEqual([["pg.query:SELECT", 160]]);
    expect(analysis.dominant).toEqual({
      span: dbTrace[2],
      onPathMs: 160,
      expectedMs: undefined,
      slowdown: undefined,
      shareOfTrace: 0.8,
      recommendations: ["look at pg.query:SELECT (160 ms)"],
    });
    expect(Object.fromEntries(selfTimeOnPath(analysis.path))).toEqual({
      "GET /api/batches": 10,
      load: 22,
      "pg.query:SELECT": 160,
      "redis-get": 8,
    });
  });

  it("falls back to the path span with the most time when nothing is a bottleneck", () => {
    // No span holds 20 % of the path: the root's own time is 6 ms, the longest step 19 ms.
    const steps = [15, 15, 19, 15, 15, 15];
    const spans = [
      span("root", undefined, 0, 100),
      ...steps.map((ms, n) =>
        span(
          `step${n}`,
          "root",
          steps.slice(0, n).reduce((sum, step) => sum + step, 0),
          ms,
        ),
      ),
    ];
    const analysis = analyzeTrace(spans, NONE, ADVISE);
    expect(analysis.bottlenecks).toEqual([]);
    expect(analysis.dominant?.span.name).toBe("step2");
    expect(analysis.dominant?.onPathMs).toBe(19);
  });

  const expectations: Record<string, Expected> = {
    normal: { p50Ms: 50, p99Ms: 90, samples: 100 },
    cache: { p50Ms: 20, p99Ms: 45, samples: 100 },
    verify: { p50Ms: 10, p99Ms: 30, samples: 100 },
    tail: { p50Ms: 50, p99Ms: 55, samples: 100 },
    fresh: { p50Ms: 1, p99Ms: 2, samples: 4 },
  };
  const slowTrace = [
    span("root", undefined, 0, 360, { kind: "server" }),
    span("normal", "root", 0, 60),
    span("cache", "root", 60, 40),
    span("unknown", "root", 100, 80),
    span("verify", "root", 180, 100),
    span("fresh", "root", 280, 20),
    span("tail", "root", 300, 60),
  ];

  it("puts spans slower than usual first, by the time they lost, then the rest by their time on the path", () => {
    const bottlenecks = findBottlenecks(slowTrace, (span) => expectations[span.name], ADVISE);
    expect(bottlenecks.map(({ span, slowdown, expectedMs }) => [span.name, slowdown, expectedMs])).toEqual([
      ["verify", 10, 10],
      ["cache", 2, 20],
      ["tail", 1.2, 50],
      ["unknown", undefined, undefined],
    ]);
    expect(bottlenecks.map(({ onPathMs, shareOfTrace }) => [onPathMs, shareOfTrace])).toEqual([
      [100, 100 / 360],
      [40, 40 / 360],
      [60, 60 / 360],
      [80, 80 / 360],
    ]);
  });

  it("does not report a span within its usual range, however much of the path it holds", () => {
    const [root, normal] = slowTrace as [TraceSpan, TraceSpan];
    const spans = [{ ...root, durationMs: 60 }, normal];
    expect(findBottlenecks(spans, (span) => expectations[span.name], ADVISE)).toEqual([]);
  });

  it("does not trust an expectation from fewer than 5 spans", () => {
    const spans = [span("root", undefined, 0, 40), span("fresh", "root", 0, 20), span("other", "root", 20, 20)];
    const [fresh] = findBottlenecks(spans, (span) => expectations[span.name], ADVISE);
    expect(fresh).toMatchObject({ onPathMs: 20, shareOfTrace: 0.5, slowdown: undefined, expectedMs: undefined });
    expect(fresh?.span.name).toBe("fresh");
  });
});
