/** One span of a trace, with OpenTelemetry's fields and times in epoch milliseconds. */
export type TraceSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: "server" | "client" | "internal" | "producer" | "consumer";
  service: string;
  startMs: number; // epoch milliseconds, fractional
  durationMs: number;
  attributes: Record<string, string | number | boolean>;
  status: "unset" | "ok" | "error";
};

/** How long spans like this one usually take, from past traces. */
export type Expected = { p50Ms: number; p99Ms: number; samples: number };

/** A stretch of the critical path spent in one span's own work, not waiting on a child. */
export type PathSegment = { spanId: string; name: string; startMs: number; endMs: number };

/** Recommendations for a span, given its own time on the critical path. */
export type Advise = (span: TraceSpan, onPathMs: number) => string[];

export type Bottleneck = {
  span: TraceSpan;
  /** The span's own time on the critical path. */
  onPathMs: number;
  /** The usual (P50) duration, when enough past spans give one. */
  expectedMs?: number;
  /** The span's duration over its usual duration. */
  slowdown?: number;
  /** `onPathMs` over the root span's duration. */
  shareOfTrace: number;
  recommendations: string[];
};

export type TraceAnalysis = {
  traceId: string;
  root: { name: string; durationMs: number; service: string };
  path: PathSegment[];
  /** Slowest first: spans slower than usual by how much time they lost, then the rest by their time on the path. */
  bottlenecks: Bottleneck[];
  /** The bottleneck with the most time on the path, or the path span with the most when nothing is a bottleneck. */
  dominant?: Bottleneck;
};

/** An expectation from fewer past spans than this is not trusted. */
const MIN_SAMPLES = 5;
const SLOWDOWN = 2;
/** A span with no expectation is a bottleneck when it holds this share of the trace's time on the path. */
const DOMINANT_SHARE = 0.2;
// Times are fractional epoch milliseconds, where a float sum is off by up to a few ulps (0.24 us each): a span that
// ends as its sibling starts can read a fraction of a microsecond later. Jaeger's resolution is 1 us; so is ours.
const TOLERANCE_MS = 0.001;

/** A span clipped to its parent, with its children sorted by end time, latest first. */
type Node = { span: TraceSpan; startMs: number; endMs: number; parent?: Node; children: Node[] };

/** The span without a parent in the trace; of several, the longest. */
function findRoot(spans: TraceSpan[]): TraceSpan {
  if (spans.length === 0) throw new Error("Cannot analyze a trace without spans.");
  const ids = new Set(spans.map((span) => span.spanId));
  const roots = spans.filter((span) => span.parentSpanId === undefined || !ids.has(span.parentSpanId));
  if (roots.length === 0) {
    throw new Error(`Trace ${spans[0]?.traceId} has no root span: every span's parent is in the trace (a cycle).`);
  }
  return roots.reduce((longest, span) => (span.durationMs > longest.durationMs ? span : longest));
}

/** The root's tree as Jaeger sanitizes it: children clipped to their parent, those outside it dropped. */
function buildTree(spans: TraceSpan[], root: TraceSpan): Node {
  const childrenOf = new Map<string, TraceSpan[]>();
  for (const span of spans) {
    if (span.parentSpanId === undefined) continue;
    const siblings = childrenOf.get(span.parentSpanId);
    if (siblings) siblings.push(span);
    else childrenOf.set(span.parentSpanId, [span]);
  }
  const visit = (span: TraceSpan, startMs: number, endMs: number, parent?: Node): Node => {
    const node: Node = { span, startMs, endMs, parent, children: [] };
    for (const child of childrenOf.get(span.spanId) ?? []) {
      // A producer does not wait for the consumer of its message (Jaeger counts only this pair as non-blocking).
      if (span.kind === "producer" && child.kind === "consumer") continue;
      const childEndMs = child.startMs + child.durationMs;
      if (child.startMs >= endMs || childEndMs <= startMs) continue;
      node.children.push(visit(child, Math.max(child.startMs, startMs), Math.min(childEndMs, endMs), node));
    }
    node.children.sort((a, b) => b.endMs - a.endMs || a.startMs - b.startMs);
    return node;
  };
  return visit(root, root.startMs, root.startMs + root.durationMs);
}

/**
 * The critical path as Jaeger UI computes it: from the end of the root, each span's last-finishing child that ends by
 * the cursor is on the path, the span's time after that child is its own, and the walk goes on inside the child; back
 * in the span, the cursor is the child's start. A child still running at the cursor overlaps the one on the path and
 * is skipped. Segments in time order.
 *
 * A child that ends exactly at the cursor counts, as in Jaeger's Go port since jaegertracing/jaeger#9174 (the UI still
 * skips it, and gives the time of back-to-back calls to their parent).
 */
export function criticalPath(spans: TraceSpan[]): PathSegment[] {
  const root = buildTree(spans, findRoot(spans));
  const segments: PathSegment[] = [];
  // The cursor only moves back in time, so children passed over once never qualify later.
  const nextChild = new Map<Node, number>();
  let node: Node | undefined = root;
  let cursor = root.endMs;
  while (node) {
    let index: number = nextChild.get(node) ?? 0;
    while ((node.children[index]?.endMs ?? Number.NEGATIVE_INFINITY) > cursor + TOLERANCE_MS) index += 1;
    const child: Node | undefined = node.children[index];
    nextChild.set(node, index + 1);
    const from = child ? Math.min(child.endMs, cursor) : node.startMs;
    if (cursor - from >= TOLERANCE_MS) {
      segments.push({ spanId: node.span.spanId, name: node.span.name, startMs: from, endMs: cursor });
    }
    if (child) {
      node = child;
      cursor = from;
    } else {
      cursor = node.startMs;
      node = node.parent;
    }
  }
  return segments.reverse();
}

/** How many milliseconds each span spends on the path, in the order the spans first appear on it. */
export function selfTimeOnPath(segments: PathSegment[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const { spanId, startMs, endMs } of segments) totals.set(spanId, (totals.get(spanId) ?? 0) + endMs - startMs);
  return totals;
}

type Assessment = Omit<Bottleneck, "recommendations"> & { expectation?: Expected; isBottleneck: boolean };

function assessPath(spans: TraceSpan[], expected: (span: TraceSpan) => Expected | undefined) {
  const root = findRoot(spans);
  const path = criticalPath(spans);
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  const assessments: Assessment[] = [];
  for (const [spanId, onPathMs] of selfTimeOnPath(path)) {
    const span = byId.get(spanId);
    if (!span || onPathMs <= 0) continue;
    const found = expected(span);
    const expectation = found && found.samples >= MIN_SAMPLES && found.p50Ms > 0 ? found : undefined;
    const slowdown = expectation && span.durationMs / expectation.p50Ms;
    assessments.push({
      span,
      onPathMs,
      expectedMs: expectation?.p50Ms,
      slowdown,
      shareOfTrace: onPathMs / root.durationMs,
      expectation,
      isBottleneck: expectation
        ? span.durationMs > expectation.p99Ms || span.durationMs >= SLOWDOWN * expectation.p50Ms
        : onPathMs >= DOMINANT_SHARE * root.durationMs,
    });
  }
  return { root, path, assessments };
}

/** Spans slower than usual first, by the time they lost against it; then the rest by their time on the path. */
function rank({ span, onPathMs, expectation }: Assessment): [number, number] {
  return expectation ? [0, expectation.p50Ms - span.durationMs] : [1, -onPathMs];
}

function bottlenecksOf(assessments: Assessment[]): Assessment[] {
  return assessments
    .filter((assessment) => assessment.isBottleneck)
    .sort((a, b) => {
      const [[groupA, keyA], [groupB, keyB]] = [rank(a), rank(b)];
      return groupA - groupB || keyA - keyB;
    });
}

function toBottleneck({ span, onPathMs, expectedMs, slowdown, shareOfTrace }: Assessment, advise: Advise): Bottleneck {
  return { span, onPathMs, expectedMs, slowdown, shareOfTrace, recommendations: advise(span, onPathMs) };
}

/** The spans on the critical path that are slower than usual or, with no usual time to compare, take much of it. */
export function findBottlenecks(
  spans: TraceSpan[],
  expected: (span: TraceSpan) => Expected | undefined,
  advise: Advise,
): Bottleneck[] {
  return bottlenecksOf(assessPath(spans, expected).assessments).map((assessment) => toBottleneck(assessment, advise));
}

/** The critical path of a trace, its bottlenecks and the one that holds the most of it. Throws for a rootless trace. */
export function analyzeTrace(
  spans: TraceSpan[],
  expected: (span: TraceSpan) => Expected | undefined,
  advise: Advise,
): TraceAnalysis {
  const { root, path, assessments } = assessPath(spans, expected);
  const ranked = bottlenecksOf(assessments);
  const bottlenecks = ranked.map((assessment) => toBottleneck(assessment, advise));
  const top = (ranked.length > 0 ? ranked : assessments).reduce<Assessment | undefined>(
    (most, assessment) => (most === undefined || assessment.onPathMs > most.onPathMs ? assessment : most),
    undefined,
  );
  return {
    traceId: root.traceId,
    root: { name: root.name, durationMs: root.durationMs, service: root.service },
    path,
    bottlenecks,
    dominant: top && (bottlenecks[ranked.indexOf(top)] ?? toBottleneck(top, advise)),
  };
}
