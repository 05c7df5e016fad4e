import { prewarm, replicaCaughtUp, settle } from "@/bench/database";
import type { Measured, Request } from "@/bench/load";
import { record } from "@/bench/recorded";
import type { Check, Row } from "@/bench/report";
import { JOURNEY_PAGE_SHARE, journey, journeyApi, journeyPages, SEARCH_PATH, verifyHot } from "@/bench/scenarios";
import { type SeedReport, seedDatabase } from "@/bench/seed";
import { benchEnvOverrides, buildOursIfStale, startCeiling } from "@/bench/servers";
import { startHaproxy } from "@/deploy/local/haproxy";
import { startTopology, type Topology } from "@/deploy/local/topology";
import type { VarnishCounters } from "@/deploy/local/varnish";
import { freePort } from "@/scripts/free-port.mjs";

export type Target = { name: string; base: string };

export type Runner = (
  target: Target,
  scenario: string,
  next: () => Request,
  options?: { rate?: number; seconds?: number; requests?: number },
) => Promise<Measured>;

export type TopologyBenchOptions = {
  batches: number;
  hot: number[];
  seconds: number;
  logDir: string;
  run: Runner;
  say: (text: string) => void;
  /** Where to register what must be stopped at the end. */
  stops: (() => Promise<unknown>)[];
};

// Issue 12's figure for the mixed journey on one process before any page was cached.
const BEFORE_PAGE_CACHE = { low: 150, high: 210 };
const PAGES = ['route="/marketplace"', 'route="/analytics"'];

/** Pages Next rendered on every web instance so far (gl_next_requests_total for /marketplace and /analytics). */
async function originRenders(topology: Topology): Promise<number> {
  let renders = 0;
  for (const web of topology.web) {
    const text = await (await fetch(`${web.baseUrl}/api/metrics`)).text();
    for (const line of text.split("\n")) {
      if (line.startsWith("gl_next_requests_total{") && PAGES.some((label) => line.includes(label))) {
        renders += Number(line.split(" ").pop());
      }
    }
  }
  return renders;
}

type Snapshot = { renders: number; varnish: VarnishCounters };

async function snapshot(topology: Topology): Promise<Snapshot> {
  return { renders: await originRenders(topology), varnish: await topology.varnish.counters() };
}

function between(before: Snapshot, after: Snapshot, seconds: number) {
  const counter = (name: string) => (after.varnish[name] ?? 0) - (before.varnish[name] ?? 0);
  const hits = counter("MAIN.cache_hit");
  const lookups = hits + counter("MAIN.cache_miss");
  return {
    rendersPerSecond: (after.renders - before.renders) / seconds,
    hitRatio: lookups ? hits / lookups : null,
  };
}

const percent = (ratio: number | null) => (ratio === null ? "no lookups" : `${(100 * ratio).toFixed(1)}%`);
const failures = (measured: Measured) => measured.errors + measured.non2xx;

/**
 * The mixed journey through the front door of `npm run topology` (HAProxy, Varnish, two web instances, two workers,
 * a primary and a streaming replica, Redis), once with the page cache and once through a second HAProxy that sends
 * everything straight to the web instances with page URLs no cache tier can answer. Each: the closed-loop maximum,
 * then API calls and pages side by side at 80% of it, each measured on its own generator.
 */
export async function topologyBench(options: TopologyBenchOptions): Promise<{
  setup: string;
  rows: Row[];
  results: Check[];
}> {
  const { batches, hot, seconds, logDir, run, say, stops } = options;
  buildOursIfStale();
  say(`starting the topology and seeding ${batches.toLocaleString("en-US")} batches on its primary ...`);
  let seeded: SeedReport | undefined;
  const started = performance.now();
  const topology = await startTopology({
    env: { ...benchEnvOverrides(), LOG_LEVEL: "warn" },
    async prepare(primaryUrl) {
      seeded = await seedDatabase(primaryUrl, batches, hot);
      await settle(primaryUrl);
    },
  });
  stops.push(() => topology.stop());
  await replicaCaughtUp(topology.databaseUrl, 120_000);
  await prewarm(topology.replicaUrl);
  const startup = (performance.now() - started) / 1000;
  const offPort = await freePort();
  const straight = await startHaproxy(
    offPort,
    topology.web.map(({ port }) => ({ host: "127.0.0.1", port })),
  );
  stops.push(() => straight.stop());
  const cacheOn: Target = { name: "front door, page cache on", base: topology.url };
  const cacheOff: Target = { name: "front door, page cache off", base: straight.url };

  const answers = {
    verify: await record(topology.url, { method: "GET", path: `/api/verify/${hot[0]}` }),
    search: await record(topology.url, { method: "POST", path: SEARCH_PATH, body: JSON.stringify({ limit: 20 }) }),
  };
  const sample = JSON.parse(Buffer.from(answers.verify.body, "base64").toString()) as { status: string };
  if (sample.status !== "verified") say(`warning: token ${hot[0]} verifies as '${sample.status}', not 'verified'`);
  const ceilingServer = await startCeiling(logDir, answers);
  const ceiling = await run(ceilingServer, "generator ceiling", verifyHot(hot));
  await ceilingServer.child.stop();

  const rows: Row[] = [
    {
      scenario: "verify hot",
      server: "ceiling",
      measured: ceiling,
      note: "wrk against the same bytes written straight to the socket",
    },
  ];
  const measuredModes = [];
  for (const [target, uniqueUrls] of [
    [cacheOn, false],
    [cacheOff, true],
  ] as const) {
    const max = await run(target, "mixed journey", journey(hot, { uniqueUrls }), { seconds });
    const rate = max.rps * 0.8;
    const before = await snapshot(topology);
    const [api, pages] = await Promise.all([
      run(target, "journey API calls at 80%", journeyApi(hot), { rate: rate * (1 - JOURNEY_PAGE_SHARE), seconds }),
      run(target, "journey pages at 80%", journeyPages({ uniqueUrls }), { rate: rate * JOURNEY_PAGE_SHARE, seconds }),
    ]);
    const during = between(before, await snapshot(topology), seconds);
    const at = `at 80% of the journey's max (${rate.toFixed(0)} req/s in all)`;
    const cacheNote = `Varnish hit ratio ${percent(during.hitRatio)}; origin renders ${during.rendersPerSecond.toFixed(1)}/s`;
    rows.push(
      {
        scenario: `mixed journey, ${target.name}`,
        server: "ours",
        measured: max,
        ceiling,
        note: uniqueUrls ? "each page URL carries a query of its own: every page is rendered" : "",
      },
      { scenario: `journey API calls (verify, search), ${target.name}`, server: "ours", measured: api, note: at },
      {
        scenario: `journey pages (/marketplace, /analytics), ${target.name}`,
        server: "ours",
        measured: pages,
        note: `${at}; ${cacheNote}`,
      },
    );
    measuredModes.push({ target, max, api, pages, during });
  }

  const [on, off] = measuredModes as [(typeof measuredModes)[0], (typeof measuredModes)[0]];
  const results: Check[] = [
    {
      target: "the generator outruns the front door (ceiling >= 1.5x the journey's max)",
      measured: `${ceiling.rps.toFixed(0)} vs ${on.max.rps.toFixed(0)} req/s`,
      pass: ceiling.rps >= 1.5 * on.max.rps,
    },
    {
      target: "topology, page cache on: API P99.9 < 100 ms at 80% of the journey's max",
      measured: `${on.api.p999.toFixed(1)} ms`,
      pass: on.api.p999 < 100 && failures(on.api) === 0,
    },
    {
      target: "topology, page cache on: page P99.9 < 300 ms at 80% of the journey's max",
      measured: `${on.pages.p999.toFixed(1)} ms`,
      pass: on.pages.p999 < 300 && failures(on.pages) === 0,
    },
    {
      target: `topology, page cache on: journey req/s above the one process before the page cache (~${BEFORE_PAGE_CACHE.low}-${BEFORE_PAGE_CACHE.high})`,
      measured: `${on.max.rps.toFixed(0)} req/s (${(on.max.rps / BEFORE_PAGE_CACHE.high).toFixed(1)}x the upper figure); page cache off: ${off.max.rps.toFixed(0)} req/s`,
      pass: on.max.rps > BEFORE_PAGE_CACHE.high,
    },
    {
      target: "page cache: hit ratio and origin renders at 80%",
      measured: `on: ${percent(on.during.hitRatio)}, ${on.during.rendersPerSecond.toFixed(1)} renders/s; off: ${off.during.rendersPerSecond.toFixed(1)} renders/s`,
      pass: null,
    },
    {
      target: "through the front door: no errors, no non-2xx",
      measured: `${measuredModes.reduce((sum, mode) => sum + failures(mode.max) + failures(mode.api) + failures(mode.pages), 0)} failed`,
      pass: measuredModes.every((mode) => failures(mode.max) + failures(mode.api) + failures(mode.pages) === 0),
    },
  ];
  const seedNote = seeded
    ? `seeded ${seeded.batches.toLocaleString("en-US")} batches, ${seeded.events.toLocaleString("en-US")} events in ${seeded.seconds.toFixed(1)} s`
    : "";
  return {
    setup: `topology (HAProxy -> Varnish -> 2 web; 2 workers; PostgreSQL primary + streaming replica; Redis; anvil) up in ${startup.toFixed(1)} s, ${seedNote}, replica caught up`,
    rows,
    results,
  };
}
