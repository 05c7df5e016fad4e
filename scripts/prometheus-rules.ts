// Writes deploy/prometheus/rules.yml and deploy/grafana/greenledger.json from the SLA table, with the bounds of
// SLA_BOUNDS_MS (lib/env.mjs). deploy/observability.test.ts fails while the committed files differ.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { grafanaDashboard } from "@/deploy/grafana/dashboard";
import { prometheusRules } from "@/deploy/prometheus/rules";
import { env } from "@/lib/env.mjs";
import { selector, slaTable } from "@/lib/observability/sla";

const slas = slaTable(env.slaBounds);
const rules = new URL("../deploy/prometheus/rules.yml", import.meta.url);
const dashboard = new URL("../deploy/grafana/greenledger.json", import.meta.url);
writeFileSync(rules, prometheusRules(slas));
writeFileSync(dashboard, JSON.stringify(grafanaDashboard(slas)));
execFileSync("npx", ["biome", "format", "--write", dashboard.pathname], { stdio: "inherit" });
console.log(`wrote ${rules.pathname} and ${dashboard.pathname}`);
for (const sla of slas) console.log(`  ${sla.key}: ${sla.boundSeconds} s on ${sla.metric}${selector(sla)}`);
