import figures from "@/components/figures-table.module.css";
import type { TracingReport } from "@/lib/observability/get-tracing-report";
import { DASH, duration, percent, time } from "./format";
import styles from "./operations.module.css";

const analysisHref = (traceId: string) => `/api/operations/traces/${traceId}`;

/** Sampling, the slowest traces of the last 15 minutes with what dominates each, and the slow buckets' exemplars. */
export function TracesSection({ tracing }: { tracing: TracingReport }) {
  return (
    <section className={styles.section} aria-labelledby="traces-heading">
      <h2 id="traces-heading">Traces</h2>
      <p>
        {percent(tracing.ratio)} of new traces sampled ({tracing.sampler})
        {tracing.boostedUntil
          ? `, raised to ${percent(tracing.currentRatio)} after an SLA breach until ${time(tracing.boostedUntil)}`
          : ""}
        ;{" "}
        {tracing.exporting
          ? "exported over OTLP."
          : "kept only in this instance (set OTEL_EXPORTER_OTLP_ENDPOINT to export them)."}{" "}
        Each analysis follows the trace's critical path and compares each span on it with what that operation took
        lately; <code>npm run trace:analyze &lt;trace id&gt;</code> prints the same.
      </p>
      {tracing.slowest.length ? (
        <div className={figures.scroll}>
          <table className={figures.table}>
            <caption>The slowest sampled traces of the last 15 minutes, slowest first</caption>
            <thead>
              <tr>
                <th scope="col">Request</th>
                <th scope="col">Took</th>
                <th scope="col">Ended</th>
                <th scope="col">Dominant span</th>
                <th scope="col">On the path</th>
                <th scope="col">Slower than usual</th>
                <th scope="col">What to do</th>
              </tr>
            </thead>
            <tbody>
              {tracing.slowest.map((trace) => (
                <tr key={trace.traceId}>
                  <th scope="row">
                    <a href={analysisHref(trace.traceId)}>{trace.rootName}</a>
                  </th>
                  <td>{duration(trace.durationMs / 1000)}</td>
                  <td>{time(trace.endedAt)}</td>
                  <td>{trace.dominant?.name ?? DASH}</td>
                  <td>{trace.dominant ? duration(trace.dominant.onPathMs / 1000) : DASH}</td>
                  <td>{trace.dominant?.slowdown ? `${trace.dominant.slowdown.toFixed(1)}x` : DASH}</td>
                  <td>{trace.dominant?.recommendation ?? DASH}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p>No sampled trace in the last 15 minutes.</p>
      )}
      {tracing.exemplars.length > 0 && (
        <div className={figures.scroll}>
          <table className={figures.table}>
            <caption>Exemplars: the latest sampled request in each latency bucket over its SLA's bound</caption>
            <thead>
              <tr>
                <th scope="col">SLA</th>
                <th scope="col">Requests</th>
                <th scope="col">Bucket</th>
                <th scope="col">Took</th>
                <th scope="col">When</th>
                <th scope="col">Trace</th>
              </tr>
            </thead>
            <tbody>
              {tracing.exemplars.map((exemplar) => (
                <tr key={`${exemplar.series} ${exemplar.bucketSeconds}`}>
                  <th scope="row">{exemplar.slaName}</th>
                  <td>{exemplar.series}</td>
                  <td>
                    {exemplar.bucketSeconds === null ? "over the last bucket" : `≤ ${duration(exemplar.bucketSeconds)}`}
                  </td>
                  <td>{duration(exemplar.seconds)}</td>
                  <td>{time(exemplar.at)}</td>
                  <td>
                    <a href={analysisHref(exemplar.traceId)}>{exemplar.traceId.slice(0, 12)}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
