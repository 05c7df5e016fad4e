import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import { freePorts } from "./free-port.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PORT = 3500;
const BASE_URL = `http://127.0.0.1:${PORT}`;
// TBT swings several-fold between runs on a busy 2-core machine: five runs give the median some room.
const RUNS = 5;
const PAGES = [
  { url: "/", route: "/" },
  { url: "/marketplace", route: "/marketplace", noWalletOrCharts: true },
  { url: "/verify/1", route: "/verify/[tokenId]", noWalletOrCharts: true },
  { url: "/batches/1", route: "/batches/[tokenId]", noWalletOrCharts: true },
];
const MARKERS = ["rainbowkit", "wagmi", "recharts"];
const FIRST_LOAD_JS_BUDGET = 500 * 1024;
/** @type {{ key: string, audit?: string, unit: string, budget: number, pass: (value: number) => boolean }[]} */
const METRICS = [
  { key: "performance", unit: "score", budget: 90, pass: (value) => value >= 90 },
  { key: "FCP", audit: "first-contentful-paint", unit: "ms", budget: 2000, pass: (value) => value < 2000 },
  { key: "LCP", audit: "largest-contentful-paint", unit: "ms", budget: 4000, pass: (value) => value < 4000 },
  { key: "CLS", audit: "cumulative-layout-shift", unit: "", budget: 0.1, pass: (value) => value < 0.1 },
  { key: "TBT", audit: "total-blocking-time", unit: "ms", budget: 300, pass: (value) => value < 300 },
];

/** @param {number[]} values */
function median(values) {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? NaN) : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** @param {{ db: number; chain: number }} ports */
function startServer(ports) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "greenledger-budgets-"));
  const child = spawn("npm", ["run", "serve"], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      NODE_ENV: "production",
      DATA_DIR: dataDir,
      DATABASE_URL: "",
      DATABASE_READ_URL: "",
      DATABASE_ANALYTICS_URL: "",
      REDIS_URL: "",
      ADMIN_ADDRESSES: "",
      DEMO_DATA: "true",
      PORT: String(PORT),
      HOST: "127.0.0.1",
      EMBEDDED_DB_PORT: String(ports.db),
      EMBEDDED_CHAIN_PORT: String(ports.chain),
      PUBLIC_BASE_URL: `http://localhost:${PORT}`,
      DEMO_BATCHES: "300",
      LOG_LEVEL: "warn",
      SESSION_SECRET: "greenledger-lighthouse-budgets-session-secret-0001",
    },
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    child,
    exited,
    async stop() {
      if (child.exitCode === null && child.pid) {
        process.kill(-child.pid, "SIGTERM");
        const timeout = sleep(15_000).then(() => "timeout");
        if ((await Promise.race([exited, timeout])) === "timeout") process.kill(-child.pid, "SIGKILL");
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** @param {Promise<unknown>} exited */
async function waitForHealth(exited) {
  let gone = false;
  exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline && !gone) {
    try {
      if ((await fetch(`${BASE_URL}/api/health`)).ok) return;
    } catch {}
    await sleep(1000);
  }
  throw new Error(gone ? "the server exited before it was healthy" : "the server was not healthy within 180 s");
}

// Turbopack's build writes .next/diagnostics/route-bundle-stats.json: per route, the chunks its first load fetches
// (root main files plus every segment's entry JS from the client reference manifest); we gzip each and add them up.
function firstLoadJs() {
  /** @type {{ route: string, firstLoadChunkPaths: string[] }[]} */
  const stats = JSON.parse(readFileSync(path.join(ROOT, ".next/diagnostics/route-bundle-stats.json"), "utf8"));
  return new Map(
    stats.map((row) => [
      row.route,
      row.firstLoadChunkPaths.map((file) => path.join(ROOT, file.replace(/^.*?\.next\//, ".next/"))),
    ]),
  );
}

/** @param {string[]} files */
function gzipBytes(files) {
  return files.reduce((sum, file) => sum + gzipSync(readFileSync(file)).length, 0);
}

/** @param {string[]} files */
function markersIn(files) {
  const found = new Set();
  for (const file of files) {
    const text = readFileSync(file, "utf8").toLowerCase();
    for (const marker of MARKERS) if (text.includes(marker)) found.add(`${marker} (${path.basename(file)})`);
  }
  return [...found];
}

/** @param {import("lighthouse").Result} lhr */
function loadedScripts(lhr) {
  const details = /** @type {{ items?: { url?: string, resourceType?: string }[] } | undefined} */ (
    lhr.audits["network-requests"]?.details
  );
  return (details?.items ?? [])
    .filter((item) => item.resourceType === "Script" && item.url?.startsWith(`${BASE_URL}/_next/static/`))
    .map((item) => path.join(ROOT, ".next/static", new URL(item.url ?? "").pathname.slice("/_next/static/".length)));
}

/** @param {number} value @param {string} unit */
function format(value, unit) {
  if (Number.isNaN(value)) return "n/a";
  if (unit === "ms") return `${Math.round(value)} ms`;
  if (unit === "KB") return `${(value / 1024).toFixed(1)} KB`;
  if (unit === "score" || unit === "count") return String(Math.round(value));
  return value.toFixed(3);
}

const buildId = readFileSync(path.join(ROOT, ".next/BUILD_ID"), "utf8");
const chunksByRoute = firstLoadJs();
const firstLoad = new Map(
  PAGES.map((page) => {
    const chunks = chunksByRoute.get(page.route);
    return [page.route, chunks && { bytes: gzipBytes(chunks), markers: markersIn(chunks) }];
  }),
);
const [db = 0, chain = 0] = await freePorts(2);
const server = startServer({ db, chain });
/** @type {{ route: string, url: string, metric: string, median: number | null, runs: number[], budget: string, pass: boolean, note?: string }[]} */
const results = [];
let chrome;
try {
  await waitForHealth(server.exited);
  chrome = await chromeLauncher.launch({
    chromePath: "/usr/bin/chromium",
    chromeFlags: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  for (const page of PAGES) {
    const url = `${BASE_URL}${page.url}`;
    const status = (await fetch(url)).status;
    const built = firstLoad.get(page.route);
    results.push({
      route: page.route,
      url: page.url,
      metric: "first-load JS (gzip)",
      median: built?.bytes ?? null,
      runs: [],
      budget: `< ${format(FIRST_LOAD_JS_BUDGET, "KB")}`,
      pass: built !== undefined && built.bytes < FIRST_LOAD_JS_BUDGET,
      ...(built ? {} : { note: "route not in the build (.next/diagnostics/route-bundle-stats.json)" }),
    });
    if (status !== 200) {
      results.push({
        route: page.route,
        url: page.url,
        metric: "Lighthouse",
        median: null,
        runs: [],
        budget: "HTTP 200",
        pass: false,
        note: `HTTP ${status}: the page does not exist in this build`,
      });
      continue;
    }
    /** @type {import("lighthouse").Result[]} */
    const runs = [];
    for (let run = 0; run < RUNS; run++) {
      const result = await lighthouse(url, { port: chrome.port, logLevel: "error", onlyCategories: ["performance"] });
      if (!result || result.lhr.runtimeError)
        throw new Error(`Lighthouse failed on ${url}: ${result?.lhr.runtimeError?.message}`);
      runs.push(result.lhr);
    }
    for (const metric of METRICS) {
      const values = runs.map((lhr) =>
        metric.audit
          ? (lhr.audits[metric.audit]?.numericValue ?? NaN)
          : (lhr.categories.performance?.score ?? NaN) * 100,
      );
      const value = median(values);
      results.push({
        route: page.route,
        url: page.url,
        metric: metric.key,
        median: value,
        runs: values,
        budget: `${metric.key === "performance" ? ">=" : "<"} ${format(metric.budget, metric.unit)}`,
        pass: metric.pass(value),
      });
    }
    if (page.noWalletOrCharts) {
      if (readFileSync(path.join(ROOT, ".next/BUILD_ID"), "utf8") !== buildId) {
        throw new Error("the build in .next changed during the run (a concurrent `next build`?); run again");
      }
      const files = runs.flatMap(loadedScripts);
      const found = [...new Set([...(built?.markers ?? []), ...markersIn(files)])];
      results.push({
        route: page.route,
        url: page.url,
        metric: "no wallet/chart code",
        median: found.length,
        runs: [],
        budget: MARKERS.join(" / "),
        pass: found.length === 0,
        note: found.length
          ? `found ${found.join(", ")}`
          : `first-load chunks and ${new Set(files).size} loaded scripts`,
      });
    }
  }
} finally {
  await chrome?.kill();
  await server.stop();
}

/** @param {string} metric */
function unitOf(metric) {
  if (metric.startsWith("first-load")) return "KB";
  return METRICS.find((item) => item.key === metric)?.unit ?? "count";
}
console.table(
  results.map((row) => ({
    route: row.route,
    metric: row.metric,
    median: row.median === null ? "-" : format(row.median, unitOf(row.metric)),
    runs: row.runs.map((value) => format(value, unitOf(row.metric))).join(", "),
    budget: row.budget,
    result: row.pass ? "pass" : "FAIL",
    note: row.note ?? "",
  })),
);
mkdirSync(path.join(ROOT, "test-results"), { recursive: true });
writeFileSync(
  path.join(ROOT, "test-results/lighthouse-budgets.json"),
  `${JSON.stringify({ baseUrl: BASE_URL, runsPerUrl: RUNS, results }, null, 2)}\n`,
);
const failed = results.filter((row) => !row.pass);
console.log(failed.length ? `${failed.length} budget(s) failed` : "all budgets pass");
process.exit(failed.length ? 1 : 0);
