import figures from "@/components/figures-table.module.css";
import type { BudgetStatus, OperationsReport } from "@/lib/observability/get-operations-report";
import type { Window } from "@/lib/observability/sla";
import type { AlertRecord, ConditionStatus, SlaStatus, WindowStatus } from "@/lib/observability/sla-monitor";
import { count, DASH, duration, percent, rate, time } from "./format";
import styles from "./operations.module.css";
import { TracesSection } from "./traces-section";

/** "1h", or "1h (36 s)" while the windows are scaled. */
function windowLabel(status: WindowStatus, scale: number): string {
  return scale === 1 ? status.window : `${status.window} (${duration(status.seconds)})`;
}

function AlertTable({ alerts, caption, resolved }: { alerts: AlertRecord[]; caption: string; resolved: boolean }) {
  return (
    <div className={figures.scroll}>
      <table className={figures.table}>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Alert</th>
            <th scope="col">Severity</th>
            <th scope="col">SLA</th>
            <th scope="col">Started</th>
            {resolved && <th scope="col">Resolved</th>}
            <th scope="col">Burn rate when it opened (5m / 1h)</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((alert) => (
            <tr key={`${alert.alert}/${alert.sla}/${alert.startsAt}`}>
              <th scope="row">{alert.alert}</th>
              <td>{alert.severity}</td>
              <td>{alert.slaName}</td>
              <td>{time(alert.startsAt)}</td>
              {resolved && <td>{alert.endsAt ? time(alert.endsAt) : DASH}</td>}
              <td>
                {rate(alert.burnRates["5m"])} / {rate(alert.burnRates["1h"])}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ConditionRow({
  condition,
  windows,
  scale,
}: {
  condition: ConditionStatus;
  windows: Record<Window, WindowStatus>;
  scale: number;
}) {
  const cells = [windows[condition.long], windows[condition.short]];
  return (
    <tr>
      <th scope="row">
        {condition.alert} ({condition.severity})
      </th>
      <td>{rate(condition.burnRate)}</td>
      {cells.map((status) => (
        <td key={status.window}>
          {windowLabel(status, scale)}:{" "}
          {status.requests
            ? `${percent(status.slowRatio)} slow of ${count.format(status.requests)}, ${rate(status.burnRate)}`
            : "no requests"}
        </td>
      ))}
      <td className={condition.holds ? styles.firing : undefined}>{condition.holds ? "yes" : "no"}</td>
    </tr>
  );
}

function SlaSection({ sla, open, scale }: { sla: SlaStatus; open: AlertRecord[]; scale: number }) {
  const firing = open.filter((alert) => alert.sla === sla.key);
  const recent = sla.windows["5m"];
  const headingId = `sla-${sla.key}`;
  return (
    <section className={`card ${styles.section}`} aria-labelledby={headingId}>
      <h3 id={headingId}>{sla.name}</h3>
      <p>
        {Number(((1 - sla.budget) * 100).toPrecision(4))} % of {sla.description} within {duration(sla.boundSeconds)}.{" "}
        {firing.length ? (
          <span className={styles.firing}>
            Firing: {firing.map((alert) => `${alert.alert} (${alert.severity})`).join(", ")}
          </span>
        ) : (
          <span className={styles.ok}>Within its budget</span>
        )}
      </p>
      <dl className={styles.figures}>
        <div>
          <dt>Requests, last {windowLabel(recent, scale)}</dt>
          <dd>{count.format(sla.requests)}</dd>
        </div>
        <div>
          <dt>P50</dt>
          <dd>{duration(sla.p50)}</dd>
        </div>
        <div>
          <dt>P99</dt>
          <dd>{duration(sla.p99)}</dd>
        </div>
        <div>
          <dt>P99.9</dt>
          <dd>{duration(sla.p999)}</dd>
        </div>
      </dl>
      <div className={figures.scroll}>
        <table className={figures.table}>
          <caption>
            Burn rate per window pair: an alert fires when both windows of one pair burn faster than its rate
          </caption>
          <thead>
            <tr>
              <th scope="col">Alert</th>
              <th scope="col">Rate</th>
              <th scope="col">Long window</th>
              <th scope="col">Short window</th>
              <th scope="col">Holds</th>
            </tr>
          </thead>
          <tbody>
            {sla.conditions.map((condition) => (
              <ConditionRow
                key={`${condition.long}/${condition.short}`}
                condition={condition}
                windows={sla.windows}
                scale={scale}
              />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

const SHOWN_P99S = 6;
const EVENT_NAMES = { tightened: "Tightened", regression: "Regression", reset: "Reset" } as const;

function BudgetsSection({ report }: { report: OperationsReport }) {
  const rules = report.budgetRules;
  const history = report.budgets
    .flatMap((budget) => budget.history.map((event) => ({ ...event, name: budget.name })))
    .sort((a, b) => b.at.localeCompare(a.at));
  return (
    <section className={styles.section} aria-labelledby="budgets-heading">
      <h2 id="budgets-heading">Performance budgets</h2>
      <p>
        The P99 each operation is held to. It starts at the SLA bound and only tightens, to a bucket of its histogram,
        never under a tenth of the bound
        {rules &&
          `: once ${rules.periods} periods of ${duration(rules.periodSeconds)} in a row, each with at least ${count.format(rules.minRequests)} requests, ran under half of it, to their highest P99 x ${rules.headroom}`}
        . A change-point check on the period P99s reports a regression; it never changes the budget. Only an admin's
        reset (POST /api/operations/budgets/{"{key}"}/reset) puts a budget back to its bound.
      </p>
      {report.budgetsUnavailable && (
        <p className={styles.firing}>
          The stored budgets could not be read from the database: the bounds are shown instead, without history.
        </p>
      )}
      <div className={figures.scroll}>
        <table className={figures.table}>
          <caption>
            Budgets; the last P99s are this instance's, oldest first, in red when the latest is over the budget
          </caption>
          <thead>
            <tr>
              <th scope="col">Operation</th>
              <th scope="col">SLA bound</th>
              <th scope="col">Budget</th>
              <th scope="col">Since</th>
              <th scope="col">Last period P99s</th>
              <th scope="col">Regression</th>
            </tr>
          </thead>
          <tbody>
            {report.budgets.map((budget) => (
              <BudgetRow key={budget.key} budget={budget} />
            ))}
          </tbody>
        </table>
      </div>
      {history.length > 0 && (
        <div className={figures.scroll}>
          <table className={figures.table}>
            <caption>History, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Operation</th>
                <th scope="col">Event</th>
                <th scope="col">Budget</th>
                <th scope="col">Why</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody>
              {history.map((event) => (
                <tr key={event.id}>
                  <td>{time(event.at)}</td>
                  <th scope="row">{event.name}</th>
                  <td className={event.kind === "regression" ? styles.firing : undefined}>{EVENT_NAMES[event.kind]}</td>
                  <td>
                    {event.fromSeconds === event.toSeconds
                      ? duration(event.toSeconds)
                      : `${duration(event.fromSeconds)} → ${duration(event.toSeconds)}`}
                  </td>
                  <td>{event.note ?? DASH}</td>
                  <td>{event.actor}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function BudgetRow({ budget }: { budget: BudgetStatus }) {
  const shown = budget.recentP99s.slice(-SHOWN_P99S);
  return (
    <tr>
      <th scope="row">{budget.name}</th>
      <td>{duration(budget.boundSeconds)}</td>
      <td>{duration(budget.budgetSeconds)}</td>
      <td>{budget.updatedAt ? time(budget.updatedAt) : DASH}</td>
      <td className={(shown.at(-1) ?? 0) > budget.budgetSeconds ? styles.firing : undefined}>
        {shown.length ? shown.map(duration).join(", ") : "no period with enough requests yet"}
      </td>
      <td className={budget.regressed ? styles.firing : undefined}>{budget.regressed ? "open" : "none"}</td>
    </tr>
  );
}

/** The monitor's latest report: alerts first, then the process's error rate and chain lag, each SLA, the budgets. */
export function OperationsReportView({ report }: { report: OperationsReport }) {
  const { errors } = report;
  return (
    <>
      <p>
        Measured by this instance ({report.instance}) on its own histograms since {time(report.startedAt)}, evaluated
        every {report.intervalSeconds} s, last at {time(report.evaluatedAt)}. Each instance evaluates its own; the
        Prometheus rules over every instance's /api/metrics give the fleet's view.
        {report.windowScale !== 1 && ` Every window is scaled by ${report.windowScale} (SLA_MONITOR_WINDOW_SCALE).`}
      </p>

      <section className={styles.section} aria-labelledby="alerts-heading">
        <h2 id="alerts-heading">Alerts</h2>
        {report.openAlerts.length ? (
          <AlertTable alerts={report.openAlerts} caption="Open" resolved={false} />
        ) : (
          <p className={styles.ok}>No alert is open.</p>
        )}
        {report.resolvedAlerts.length > 0 && (
          <AlertTable alerts={report.resolvedAlerts} caption="Recently resolved, newest first" resolved />
        )}
      </section>

      <section className={styles.section} aria-labelledby="health-heading">
        <h2 id="health-heading">Errors and chain</h2>
        <dl className={styles.figures}>
          <div>
            <dt>5xx answers, last {report.windowScale === 1 ? errors.window : duration(errors.seconds)}</dt>
            <dd>
              {percent(errors.ratio)} ({count.format(errors.http5xx)} of {count.format(errors.requests)})
            </dd>
          </div>
          <div>
            <dt>Chain lag</dt>
            <dd>
              {report.chainLagBlocks === null
                ? "measured by the worker"
                : `${count.format(report.chainLagBlocks)} blocks`}
            </dd>
          </div>
        </dl>
      </section>

      <section className={styles.section} aria-labelledby="slas-heading">
        <h2 id="slas-heading">SLAs</h2>
        {report.slas.map((sla) => (
          <SlaSection key={sla.key} sla={sla} open={report.openAlerts} scale={report.windowScale} />
        ))}
      </section>

      <BudgetsSection report={report} />

      {report.tracing && <TracesSection tracing={report.tracing} />}
    </>
  );
}
