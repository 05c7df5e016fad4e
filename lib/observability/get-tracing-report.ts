import "server-only";
import { env } from "@/lib/env.mjs";
import { log } from "@/lib/log";
import { analyzeSpans } from "@/lib/observability/analyze-trace";
import { matchesLabels, type SlaKey, slaTable } from "@/lib/observability/sla";
import { tracingState } from "@/lib/observability/tracing/state.mjs";

export type SlowTrace = {
  traceId: string;
  rootName: string;
  durationMs: number;
  endedAt: string;
  spans: number;
  /** The span that holds the most of the critical path, and the first thing to do about it. */
  dominant: { name: string; onPathMs: number; slowdown: number | null; recommendation: string | null } | null;
};

/** A sampled request in a bucket above its SLA's bound: the trace that shows why that bucket filled. */
export type SlowExemplar = {
  sla: SlaKey;
  slaName: string;
  series: string;
  /** The bucket's upper bound, seconds; null above the last bucket. */
  bucketSeconds: number | null;
  seconds: number;
  traceId: string;
  at: string;
};

export type TracingReport = {
  exporting: boolean;
  sampler: string;
  ratio: number;
  currentRatio: number;
  /** Sampling stays raised until then, after an SLA breach. */
  boostedUntil: string | null;
  slowest: SlowTrace[];
  exemplars: SlowExemplar[];
};

const SLOWEST_SHOWN = 5;
const EXEMPLARS_SHOWN = 10;

function slowExemplars(exemplars: NonNullable<ReturnType<typeof tracingState>>["exemplars"]): SlowExemplar[] {
  const slas = slaTable(env.slaBounds).filter(({ metric }) => metric === "gl_http_request_duration_seconds");
  const found: SlowExemplar[] = [];
  for (const [series, buckets] of exemplars) {
    const [method = "", route = ""] = series.split(" ");
    const sla = slas.find((candidate) => matchesLabels(candidate, { method, route }));
    if (!sla) continue;
    for (const [bucketSeconds, { traceId, seconds, at }] of buckets) {
      if (bucketSeconds <= sla.boundSeconds) continue;
      found.push({
        sla: sla.key,
        slaName: sla.name,
        series,
        bucketSeconds,
        seconds,
        traceId,
        at: new Date(at).toISOString(),
      });
    }
  }
  return found.sort((a, b) => b.seconds - a.seconds).slice(0, EXEMPLARS_SHOWN);
}

/** This process's sampling, its slowest recent traces with what dominates each, and its slow exemplars. */
export async function getTracingReport(): Promise<TracingReport | null> {
  const state = tracingState();
  if (!state) return null;
  const slowest = await Promise.all(
    state.traces.slowest(SLOWEST_SHOWN).map(async (trace): Promise<SlowTrace> => {
      const spans = state.traces.trace(trace.traceId) ?? [];
      const analysis = await analyzeSpans(spans).catch((error: unknown) => {
        log.warn({ err: error, traceId: trace.traceId }, "a recent trace could not be analyzed");
        return undefined;
      });
      const dominant = analysis?.dominant;
      return {
        ...trace,
        dominant: dominant
          ? {
              name: dominant.span.name,
              onPathMs: dominant.onPathMs,
              slowdown: dominant.slowdown ?? null,
              recommendation: dominant.recommendations[0] ?? null,
            }
          : null,
      };
    }),
  );
  return {
    exporting: state.exporting,
    sampler: state.sampler.name,
    ratio: state.sampler.baseRatio,
    currentRatio: state.sampler.ratio(),
    boostedUntil: state.sampler.boostedUntil()?.toISOString() ?? null,
    slowest,
    exemplars: slowExemplars(state.exemplars),
  };
}
