import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { grafanaDashboard } from "@/deploy/grafana/dashboard";
import { prometheusRules } from "@/deploy/prometheus/rules";
import { env } from "@/lib/env.mjs";
import { metrics } from "@/lib/metrics/metrics";
import { slaTable } from "@/lib/observability/sla";

const read = (name: string) => readFileSync(new URL(name, import.meta.url), "utf8");
const slas = slaTable(env.slaBounds);
const PROMTOOL = "/usr/bin/promtool";

type Rules = { groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[] };
type Dashboard = { panels: { type: string; title: string; targets?: { expr: string }[] }[] };
const rules = parseYaml(read("./prometheus/rules.yml")) as Rules;
const dashboard = JSON.parse(read("./grafana/greenledger.json")) as Dashboard;

function promtool(...args: string[]): string {
  if (!existsSync(PROMTOOL)) throw new Error("promtool is missing: npm test installs prometheus (apt-get)");
  const cwd = fileURLToPath(new URL("./prometheus/", import.meta.url));
  return execFileSync(PROMTOOL, args, { cwd, encoding: "utf8", stdio: "pipe" });
}

const SERIES_SUFFIXES: Record<string, string[]> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};
const NOT_METRICS = new Set(["and", "or", "unless", "bool", "offset", "inf", "nan"]);

/** The metric names a PromQL expression reads: not functions, aggregations, label names, keywords or numbers. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "")
    .replace(/\$\w+/g, "");
  const names: string[] = [];
  for (const match of bare.matchAll(/\d+(?:\.\d+)?(?:e[+-]?\d+)?|[a-zA-Z_:][\w:]*/gi)) {
    const [token] = match;
    const calls = /^\s*\(/.test(bare.slice(match.index + token.length));
    if (!/^\d/.test(token) && !calls && !NOT_METRICS.has(token.toLowerCase())) names.push(token);
  }
  return names;
}

/** Every series name the app's registry exports, and every recording rule of rules.yml. */
async function knownNames(): Promise<Set<string>> {
  const exported = (await metrics.registry.getMetricsAsJSON()).flatMap(({ name, type }) =>
    (SERIES_SUFFIXES[String(type)] ?? [""]).map((suffix) => `${name}${suffix}`),
  );
  const recorded = rules.groups.flatMap((group) => group.rules.flatMap((rule) => (rule.record ? [rule.record] : [])));
  return new Set([...exported, ...recorded]);
}

describe("deploy/prometheus/rules.yml", () => {
  it("is what scripts/prometheus-rules.ts generates from the SLA table", () => {
    expect(read("./prometheus/rules.yml")).toBe(prometheusRules(slas));
  });

  // promtool evaluates every rule at each minute of each test's series: several seconds in all.
  it("passes promtool check rules and the alert tests of rules-test.yml", () => {
    expect(promtool("check", "rules", "rules.yml")).toMatch(/SUCCESS: \d+ rules found/);
    expect(promtool("test", "rules", "rules-test.yml")).toContain("SUCCESS");
  }, 60_000);

  it("scales the burn windows for tests, keeping the record names and the symptom alerts", () => {
    const scaled = parseYaml(prometheusRules(slas, { windowScale: 0.01 })) as Rules;
    const [ratios, burns, symptoms] = scaled.groups;
    expect(ratios?.rules.find(({ record }) => record === "sla:slow_ratio:rate5m")?.expr).toContain("[3s]");
    expect(ratios?.rules.find(({ record }) => record === "sla:slow_ratio:rate3d")?.expr).toContain("[2592s]");
    expect(burns).toEqual(rules.groups[1]);
    expect(symptoms).toEqual(rules.groups[2]);
  });

  it("reads only metrics the app exports and the rules record", async () => {
    const known = await knownNames();
    const used = rules.groups.flatMap((group) => group.rules.flatMap((rule) => metricNames(rule.expr)));
    expect(used).toContain("gl_chain_sync_seconds_bucket");
    expect(used.filter((name) => !known.has(name))).toEqual([]);
  });
});

describe("deploy/grafana/greenledger.json", () => {
  it("is what scripts/prometheus-rules.ts generates from the SLA table", () => {
    expect(dashboard).toEqual(JSON.parse(JSON.stringify(grafanaDashboard(slas))));
  });

  it("queries only metrics the app exports and the rules record", async () => {
    const known = await knownNames();
    const unknown = dashboard.panels.flatMap(({ title, targets = [] }) =>
      targets.flatMap(({ expr }) =>
        metricNames(expr)
          .filter((name) => !known.has(name))
          .map((name) => ({ title, name })),
      ),
    );
    const queried = dashboard.panels.flatMap(({ targets = [] }) => targets.flatMap(({ expr }) => metricNames(expr)));
    expect(queried).toEqual(expect.arrayContaining(["sla:slow_ratio:rate3d", "gl_attachments_waiting"]));
    expect(unknown).toEqual([]);
  });
});
