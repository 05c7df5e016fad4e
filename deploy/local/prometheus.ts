import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { type Daemon, startDaemon } from "@/deploy/local/daemon";
import { freePort } from "@/scripts/free-port.mjs";

const PROMETHEUS = "/usr/bin/prometheus";

export type PrometheusOptions = {
  /** The metrics to scrape: a GreenLedger server's /api/metrics. */
  metricsUrl: string;
  /** The rules file's text, e.g. prometheusRules(slas, { windowScale }). */
  rules: string;
  /** Where firing and resolved alerts are sent. */
  alertmanagerUrl: string;
};

export type Prometheus = Daemon;

/**
 * Debian's Prometheus on a free loopback port, its TSDB in a temp folder: it scrapes `metricsUrl` and evaluates
 * `rules` every second, and sends alerts to `alertmanagerUrl`. Resolves once it is ready (rules loaded).
 */
export async function startPrometheus({ metricsUrl, rules, alertmanagerUrl }: PrometheusOptions): Promise<Prometheus> {
  const dir = await mkdtemp(path.join(tmpdir(), "gl-prometheus-"));
  const port = await freePort();
  const target = new URL(metricsUrl);
  const rulesFile = path.join(dir, "rules.yml");
  const config = path.join(dir, "prometheus.yml");
  await writeFile(rulesFile, rules);
  await writeFile(
    config,
    stringify({
      global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
      rule_files: [rulesFile],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [new URL(alertmanagerUrl).host] }] }] },
      scrape_configs: [
        {
          job_name: "greenledger",
          scheme: target.protocol.slice(0, -1),
          metrics_path: target.pathname,
          static_configs: [{ targets: [target.host] }],
        },
      ],
    }),
  );
  const args = [
    `--config.file=${config}`,
    `--storage.tsdb.path=${path.join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ];
  return startDaemon(PROMETHEUS, args, port, dir, 30_000, "/-/ready");
}
