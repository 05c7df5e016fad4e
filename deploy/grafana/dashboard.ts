import { slowRatioRecord } from "@/deploy/prometheus/rules";
import { BURN_ALERTS, type Sla, selector, WINDOWS } from "@/lib/observability/sla";

const DATASOURCE = { type: "prometheus", uid: "$datasource" };
const WIDTH = 24;
const HEIGHT = 8;

type Target = { expr: string; legendFormat: string };
type Threshold = { value: number; color: string };
type Panel = {
  title: string;
  description?: string;
  unit: string;
  targets: Target[];
  thresholds?: Threshold[];
  width?: number;
};

const quantile = (q: number, histogram: string, filter: string) =>
  `histogram_quantile(${q}, sum by (le) (rate(${histogram}_bucket${filter}[$__rate_interval])))`;

function latency(sla: Sla): Panel {
  return {
    title: `${sla.name}: latency against the ${sla.boundSeconds} s bound`,
    description: `${sla.description}: 99 % within ${sla.boundSeconds} s (${sla.metric}${selector(sla)})`,
    unit: "s",
    width: 12,
    targets: [0.5, 0.99, 0.999].map((q) => ({
      expr: quantile(q, sla.metric, selector(sla)),
      legendFormat: `P${q * 100}`,
    })),
    thresholds: [{ value: sla.boundSeconds, color: "red" }],
  };
}

function burnRates(sla: Sla): Panel {
  return {
    title: `${sla.name}: error budget burn rate`,
    description:
      "1 spends the 30-day budget in 30 days. Lines: the burn rates of the ticket (orange) and page (red) alerts.",
    unit: "x",
    width: 12,
    targets: WINDOWS.map((window) => ({
      expr: `${slowRatioRecord(window)}{sla="${sla.key}"} / ${sla.budget}`,
      legendFormat: window,
    })),
    thresholds: BURN_ALERTS.flatMap(({ severity, conditions }) =>
      conditions.map(({ burnRate }) => ({ value: burnRate, color: severity === "page" ? "red" : "orange" })),
    ).sort((a, b) => a.value - b.value),
  };
}

const symptoms: Panel[] = [
  {
    title: "Requests by route",
    unit: "reqps",
    targets: [
      {
        expr: "sum by (route) (rate(gl_http_request_duration_seconds_count[$__rate_interval]))",
        legendFormat: "{{route}}",
      },
    ],
  },
  {
    title: "Errors by kind",
    unit: "ops",
    width: 12,
    targets: [{ expr: "sum by (kind) (rate(gl_errors_total[$__rate_interval]))", legendFormat: "{{kind}}" }],
  },
  {
    title: "5xx share of answers",
    unit: "percentunit",
    width: 12,
    targets: [
      {
        expr:
          'sum(rate(gl_errors_total{kind="http_5xx"}[$__rate_interval])) / ' +
          "sum(rate(gl_http_request_duration_seconds_count[$__rate_interval]))",
        legendFormat: "5xx",
      },
    ],
    thresholds: [{ value: 0.01, color: "red" }],
  },
  {
    title: "Chain: blocks behind the head",
    unit: "none",
    width: 8,
    targets: [{ expr: "max(gl_chain_lag_blocks)", legendFormat: "lag" }],
    thresholds: [{ value: 10, color: "red" }],
  },
  {
    title: "Chain: since the indexer's last good poll",
    unit: "s",
    width: 8,
    targets: [{ expr: "time() - max(gl_chain_indexer_polled_timestamp_seconds)", legendFormat: "since" }],
    thresholds: [{ value: 300, color: "red" }],
  },
  {
    title: "Chain: events indexed",
    unit: "ops",
    width: 8,
    targets: [{ expr: "sum(rate(gl_chain_sync_seconds_count[$__rate_interval]))", legendFormat: "events" }],
  },
  {
    title: "Redis circuit open (1: the cache answers without Redis)",
    unit: "none",
    width: 8,
    targets: [{ expr: "gl_redis_circuit_open", legendFormat: "{{instance}}" }],
    thresholds: [{ value: 1, color: "red" }],
  },
  {
    title: "Database pool connections",
    unit: "none",
    width: 16,
    targets: [{ expr: "sum by (pool, state) (gl_db_pool_connections)", legendFormat: "{{pool}} {{state}}" }],
  },
  {
    title: "Live tracking: open streams (the SLA row shows their delivery)",
    unit: "none",
    width: 12,
    targets: [
      { expr: "sum(gl_live_streams)", legendFormat: "streams" },
      { expr: "sum by (instance) (gl_live_streams)", legendFormat: "{{instance}}" },
    ],
  },
  {
    title: "Live tracking: slow watchers closed, resumes",
    unit: "ops",
    width: 12,
    targets: [
      { expr: "sum(rate(gl_live_slow_watchers_closed_total[$__rate_interval]))", legendFormat: "slow closed" },
      { expr: "sum by (kind) (rate(gl_live_resumes_total[$__rate_interval]))", legendFormat: "resume {{kind}}" },
    ],
  },
  {
    title: "Uploads: attachments waiting to be ready",
    unit: "none",
    width: 12,
    targets: [{ expr: "max(gl_attachments_waiting)", legendFormat: "waiting" }],
  },
  {
    title: "Uploads: the oldest waiting attachment",
    unit: "s",
    width: 12,
    targets: [{ expr: "max(gl_attachment_oldest_waiting_seconds)", legendFormat: "oldest" }],
    thresholds: [{ value: 600, color: "red" }],
  },
];

/** Panels laid out left to right, wrapping at the grid's width. */
function layout(panels: Panel[], firstId: number, top: number) {
  let x = 0;
  let y = top;
  return panels.map((panel, index) => {
    const w = panel.width ?? WIDTH;
    if (x + w > WIDTH) {
      x = 0;
      y += HEIGHT;
    }
    const gridPos = { h: HEIGHT, w, x, y };
    x += w;
    return {
      id: firstId + index,
      type: "timeseries",
      title: panel.title,
      description: panel.description ?? "",
      datasource: DATASOURCE,
      gridPos,
      fieldConfig: {
        defaults: {
          unit: panel.unit,
          custom: { thresholdsStyle: { mode: panel.thresholds ? "line" : "off" } },
          thresholds: {
            mode: "absolute",
            steps: [{ value: null, color: "green" }, ...(panel.thresholds ?? [])],
          },
        },
        overrides: [],
      },
      options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
      targets: panel.targets.map((target, i) => ({
        refId: String.fromCharCode(65 + i),
        datasource: DATASOURCE,
        ...target,
      })),
    };
  });
}

function row(title: string, id: number, y: number) {
  return { id, type: "row", title, collapsed: false, gridPos: { h: 1, w: WIDTH, x: 0, y }, panels: [] };
}

/** deploy/grafana/greenledger.json: each SLA's latency and burn rates, then the symptoms the alerts watch. */
export function grafanaDashboard(slas: Sla[]) {
  const slaPanels = layout(
    slas.flatMap((sla) => [latency(sla), burnRates(sla)]),
    2,
    1,
  );
  const slaBottom = Math.max(...slaPanels.map(({ gridPos }) => gridPos.y + gridPos.h));
  const symptomPanels = layout(symptoms, slaPanels.length + 3, slaBottom + 1);
  return {
    title: "GreenLedger",
    uid: "greenledger",
    description: "Generated from lib/observability/sla.ts by scripts/prometheus-rules.ts: do not edit.",
    tags: ["greenledger"],
    timezone: "browser",
    editable: true,
    schemaVersion: 39,
    version: 1,
    refresh: "30s",
    time: { from: "now-6h", to: "now" },
    annotations: { list: [] },
    templating: {
      list: [
        {
          name: "datasource",
          label: "Prometheus",
          type: "datasource",
          query: "prometheus",
          current: {},
          hide: 0,
          refresh: 1,
        },
      ],
    },
    panels: [row("SLAs", 1, 0), ...slaPanels, row("Symptoms", slaPanels.length + 2, slaBottom), ...symptomPanels],
  };
}
