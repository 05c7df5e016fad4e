import type { Metric } from "prom-client";
import { metrics } from "@/lib/metrics/metrics";
import { matchesLabels, type Sla } from "@/lib/observability/sla";

/** A histogram's cumulative bucket counts, summed over series: `counts[i]` observations at most `bounds[i]`. */
export type Buckets = { bounds: number[]; counts: number[] };

/** The observations between two readings of one histogram. */
export function bucketsSince(now: Buckets, then: Buckets): Buckets {
  return { bounds: now.bounds, counts: now.counts.map((count, index) => count - (then.counts[index] ?? 0)) };
}

/** What the monitor reads from this process's registry at one moment: cumulative counts since the process started. */
export type Reading = {
  /** By SLA, in the order of the SLA table; empty buckets while a histogram has no series. */
  slas: Buckets[];
  http5xx: number;
  httpRequests: number;
  /** Null where this process runs no indexer (its gauge stays 0 there). */
  chainLagBlocks: number | null;
};

type Series = { labels: Record<string, string>; metricName?: string; value: number };
type Read = { name: string; series: Series[] };

async function read(metric: Metric | undefined): Promise<Read> {
  if (!metric) throw new Error("an SLA reads a histogram the registry does not have");
  const { name, values } = await metric.get();
  const series = values.map((value) => ({
    labels: Object.fromEntries(Object.entries(value.labels).map(([label, item]) => [label, String(item)])),
    metricName: "metricName" in value && typeof value.metricName === "string" ? value.metricName : undefined,
    value: value.value,
  }));
  return { name, series };
}

const sum = (series: Series[]) => series.reduce((total, { value }) => total + value, 0);

function bucketsOf({ name, series }: Read, select: (labels: Record<string, string>) => boolean): Buckets {
  const byBound = new Map<number, number>();
  for (const { labels, metricName, value } of series) {
    if (metricName !== `${name}_bucket`) continue;
    const { le = "", ...rest } = labels;
    if (!select(rest)) continue;
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
    byBound.set(bound, (byBound.get(bound) ?? 0) + value);
  }
  const bounds = [...byBound.keys()].sort((a, b) => a - b);
  return { bounds, counts: bounds.map((bound) => byBound.get(bound) ?? 0) };
}

/** Every SLA's histogram, 5xx answers and requests, and the chain's lag, as this process counts them now. */
export async function readRegistry(slas: Sla[], { chainLag }: { chainLag: boolean }): Promise<Reading> {
  const names = [...new Set(slas.map((sla) => sla.metric))];
  const histograms = new Map(
    await Promise.all(names.map(async (name) => [name, await read(metrics.registry.getSingleMetric(name))] as const)),
  );
  const [requests, errors, lag] = await Promise.all([
    read(metrics.httpDuration),
    read(metrics.errors),
    read(metrics.chainLag),
  ]);
  return {
    slas: slas.map((sla) => {
      const histogram = histograms.get(sla.metric) ?? { name: sla.metric, series: [] };
      return bucketsOf(histogram, (labels) => matchesLabels(sla, labels));
    }),
    http5xx: sum(errors.series.filter(({ labels }) => labels.kind === "http_5xx")),
    httpRequests: sum(requests.series.filter(({ metricName }) => metricName === `${requests.name}_count`)),
    chainLagBlocks: chainLag ? sum(lag.series) : null,
  };
}
