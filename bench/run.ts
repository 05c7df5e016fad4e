import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { prepareDatabase } from "@/bench/database";
import { ensureWrk, type Measured, measure, type Request } from "@/bench/load";
import { machineQuiet } from "@/bench/processes";
import { record } from "@/bench/recorded";
import { appendResults, type Check, checks, machine, type Row, table } from "@/bench/report";
import {
  hotTokens,
  journey,
  SEARCH_PATH,
  search,
  searchAnyDepth,
  searchFiltered,
  verifyHot,
  verifyPastL1,
  verifyUniform,
} from "@/bench/scenarios";
import { dropKeys, type Server, startCeiling, startLimit, startNaive, startOurs, startRedis } from "@/bench/servers";
import { type Target, topologyBench } from "@/bench/topology";
import { TRACING_ROUNDS, TRACING_RUN_SECONDS, tracingBench } from "@/bench/tracing";

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    batches: { type: "string" },
    seconds: { type: "string" },
    connections: { type: "string", default: "64" },
    reuse: { type: "boolean", default: false },
    topology: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    "no-record": { type: "boolean", default: false },
    tracing: { type: "boolean", default: false },
  },
});

function positive(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    console.error(`--${name} must be a positive whole number, not '${value}'`);
    process.exit(2);
  }
  return parsed;
}

// The topology mode measures the tiers in front of the data: a smaller seed keeps its fresh cluster's start short.
const batches = positive("batches", flags.batches ?? (flags.topology ? "100000" : "1000000"));
const seconds = positive("seconds", flags.seconds ?? (flags.quick ? "3" : "15"));
const warmSeconds = flags.quick ? 1 : 3;
const connections = positive("connections", flags.connections);
// Pages take far longer than API calls: a short run would end before most of the 64 connections' first answers.
const journeySeconds = Math.max(seconds, 10);
// A 15 s P99 here moves by 5-10 ms between identical runs, as much as the Redis kill's target allows: three times as
// many samples for each side of that comparison.
const killSeconds = seconds * 3;
const adminUrl = process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const sharedRedis = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
// Cold tokens differ from run to run, so a reused database's page cache does not hold this run's cold set.
const coldSeed = Date.now() % 2 ** 31;
const runId = `${Date.now().toString(36)}${process.pid}`;
const logDir = mkdtempSync(path.join(os.tmpdir(), "gl-bench-"));
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
const startedAt = new Date();
const machineLine = machine();

let seeding = "";
const rows: Row[] = [];
const results: Check[] = [];
const stops: (() => Promise<unknown>)[] = [];

function say(text: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}`);
}

async function run(
  server: Target,
  scenario: string,
  next: () => Request,
  options: { rate?: number; seconds?: number; requests?: number } = {},
): Promise<Measured> {
  const { rate } = options;
  const load = { base: server.base, next, connections, requests: options.requests ?? 100_000, workDir: logDir };
  if (!(await machineQuiet())) say(`the machine never went idle before ${scenario}; measuring anyway`);
  if (!rate) await measure({ ...load, seconds: warmSeconds });
  const measured = await measure({ ...load, seconds: options.seconds ?? seconds, rate });
  const ms = (value: number) => value.toFixed(2);
  say(
    `${scenario} on ${server.name}: ${measured.rps.toFixed(0)} req/s, P50 ${ms(measured.p50)} ms, P99 ${ms(measured.p99)} ms, P99.9 ${ms(measured.p999)} ms, errors ${measured.errors}, non-2xx ${measured.non2xx}`,
  );
  return measured;
}

/** How many sends of a constant-rate run left after their slot: the server had every connection busy. */
function lateNote(measured: Measured): string {
  if (!measured.late) return "";
  const share = (100 * measured.late.sends) / Math.max(1, measured.requests);
  return `; ${share.toFixed(1)}% of sends late (P99.9 lateness ${measured.late.p999.toFixed(1)} ms)`;
}

async function json<T>(response: Promise<Response>): Promise<T> {
  const answer = await response;
  if (!answer.ok) throw new Error(`${answer.url} answered ${answer.status}: ${await answer.text()}`);
  return (await answer.json()) as T;
}

function post(base: string, body: unknown): Promise<Response> {
  return fetch(`${base}${SEARCH_PATH}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Follows nextCursor from the first page; returns the cursor that asks for page `page`. */
async function cursorFor(base: string, page: number): Promise<string> {
  let cursor: string | null = null;
  for (let current = 1; current < page; current += 1) {
    const answer: { nextCursor: string | null } = await json(post(base, { limit: 20, ...(cursor ? { cursor } : {}) }));
    if (!answer.nextCursor) throw new Error(`search ran out of pages at page ${current}`);
    cursor = answer.nextCursor;
  }
  return cursor as string;
}

// A sample such as gl_cache_requests_total{result="l2"} or cache_hits_total{tier="redis"}; never a miss counter.
const L2_SAMPLE = /^[^#].*(="l2"|(hit.*(l2|redis)|(l2|redis).*hit))/i;

/** Sum of the cache's L2 (Redis) hit counters in GET /api/metrics, or null when there is no such endpoint. */
async function l2Hits(base: string): Promise<number | null> {
  const token = process.env.METRICS_TOKEN;
  const response = await fetch(`${base}/api/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  }).catch(() => null);
  if (!response?.ok) return null;
  const text = await response.text();
  // A counter appears only once incremented: before the first L2 hit, metrics that speak of L2 mean zero.
  if (!/l2|redis/i.test(text)) return null;
  let hits = 0;
  for (const line of text.split("\n")) {
    if (!L2_SAMPLE.test(line) || /miss/i.test(line)) continue;
    const value = Number(line.trim().split(/\s+/).pop());
    if (Number.isFinite(value)) hits += value;
  }
  return hits;
}

function delta(after: number | null, before: number | null): number | null {
  return after === null || before === null ? null : after - before;
}

const PROBE_TOKENS = 50;
let probed = 0;
let probeFailures = 0;

/**
 * Tokens nobody asked for yet, loaded on one instance (which fills L2) and then read on the other: the L2 hits the
 * reader counts. One instance alone would only read L2 for keys its own L1 had dropped.
 */
async function probeL2(loader: Server, reader: Server): Promise<number | null> {
  const tokens = Array.from({ length: PROBE_TOKENS }, () => {
    probed += 1;
    return 1 + ((coldSeed + probed * 104_729) % batches);
  });
  const load = (server: Server) =>
    Promise.all(
      tokens.map(async (token) => {
        const response = await fetch(`${server.base}/api/verify/${token}`);
        await response.arrayBuffer();
        if (!response.ok) probeFailures += 1;
      }),
    );
  await load(loader);
  // The loader fills L2 after it has answered (write-behind): nothing to await from outside.
  await delay(200);
  const before = await l2Hits(reader.base);
  await load(reader);
  return delta(await l2Hits(reader.base), before);
}

/** Probes every second after Redis came back until the peer reads from it again (for at most 20 s). */
async function l2Resumes(
  loader: Server,
  reader: Server,
  restartedAt: number,
): Promise<{ hits: number | null; seconds: number }> {
  for (;;) {
    const hits = await probeL2(loader, reader);
    const seconds = (performance.now() - restartedAt) / 1000;
    if (hits === null || hits > 0 || seconds > 20) return { hits, seconds };
    await delay(1_000);
  }
}

async function stopLast(): Promise<void> {
  await stops.pop()?.();
}

/** The verification and the search on a server that replays GreenLedger's recorded answers; stops it after. */
async function replayRuns(server: Server, hot: number[]): Promise<{ verify: Measured; search: Measured }> {
  stops.push(() => server.child.stop());
  const verify = await run(server, "verify", verifyHot(hot));
  const searched = await run(server, "search", search({ limit: 20 }));
  await stopLast();
  return { verify, search: searched };
}

async function main(): Promise<void> {
  ensureWrk();
  const hot = hotTokens(batches);
  if (flags.topology) {
    const measured = await topologyBench({ batches, hot, seconds: journeySeconds, logDir, run, say, stops });
    seeding = measured.setup;
    rows.push(...measured.rows);
    results.push(...measured.results);
    return;
  }
  say(`database: ${flags.reuse ? "reusing gl_bench_reuse if its seed matches" : "a scratch database"} on ${adminUrl}`);
  const database = await prepareDatabase({ adminUrl, batches, hotTokens: hot, reuse: flags.reuse, keep: flags.keep });
  stops.push(() => database.drop());
  seeding = database.seeded
    ? `seeded ${database.seeded.batches.toLocaleString("en-US")} batches, ${database.seeded.events.toLocaleString("en-US")} events, ${database.seeded.farms} farms in ${database.seeded.seconds.toFixed(1)} s`
    : `reused ${database.name} (${batches.toLocaleString("en-US")} batches, seeded earlier)`;
  say(seeding);

  const keyPrefix = `gl-bench-${runId}:`;
  stops.push(() => dropKeys(sharedRedis, keyPrefix));
  const tracingCost = async () => {
    await database.resetChain();
    const tracing = {
      databaseUrl: database.url,
      contract: () => database.contract(),
      redisUrl: sharedRedis,
      keyPrefix,
      hot,
      logDir,
      run,
      say,
      stops,
    };
    const measured = await tracingBench(tracing);
    rows.push(...measured.rows);
    results.push(...measured.results);
  };
  if (flags.tracing) return tracingCost();
  say("starting GreenLedger (server.ts, production build) ...");
  await database.resetChain();
  const ours = await startOurs("ours", logDir, { databaseUrl: database.url, redisUrl: sharedRedis, keyPrefix });
  stops.push(() => ours.child.stop());

  // The limit answers these very bytes, so whatever GreenLedger adds to an answer is in the limit too.
  const answers = {
    verify: await record(ours.base, { method: "GET", path: `/api/verify/${hot[0]}` }),
    search: await record(ours.base, { method: "POST", path: SEARCH_PATH, body: JSON.stringify({ limit: 20 }) }),
  };
  const sample = JSON.parse(Buffer.from(answers.verify.body, "base64").toString()) as { status: string };
  if (sample.status !== "verified") say(`warning: token ${hot[0]} verifies as '${sample.status}', not 'verified'`);
  const page500 = await cursorFor(ours.base, 500);

  const oursHot = await run(ours, "verify hot", verifyHot(hot));
  const oursRated = await run(ours, "verify hot at 80% of max", verifyHot(hot), { rate: oursHot.rps * 0.8 });
  // The P99.9 target holds at a sustainable rate, not at saturation: each search again, right after its maximum
  // was measured, at 80% of it.
  const rated = (measured: { rps: number }) => ({ rate: Math.max(1, measured.rps * 0.8) });
  const oursFirst = await run(ours, "search first page", search({ limit: 20 }));
  const firstRated = await run(ours, "search first page at 80%", search({ limit: 20 }), rated(oursFirst));
  const oursDeep = await run(ours, "search page 500", search({ limit: 20, cursor: page500 }));
  const deepRated = await run(ours, "search page 500 at 80%", search({ limit: 20, cursor: page500 }), rated(oursDeep));
  const oursFiltered = await run(ours, "search filtered", searchFiltered());
  const filteredRated = await run(ours, "search filtered at 80%", searchFiltered(), rated(oursFiltered));
  // After the cached searches: a million cold verifications fill L1 and leave the heap more to scavenge, which the
  // runs right after them paid for. More tokens than a run asks for: each cold request is one nobody asked for before.
  const oursCold = await run(ours, "verify cold", verifyUniform(batches, coldSeed), { requests: 1_000_000 });
  // More cursors than a run sends requests: no page is asked for twice, so none comes from the cache.
  const anyDepth = searchAnyDepth(await database.randomCursors(200_000));
  const oursAnyDepth = await run(ours, "search at any depth, uncached", anyDepth, { requests: 200_000 });
  const oursJourney = await run(ours, "mixed journey", journey(hot), { seconds: journeySeconds });
  await stopLast();

  say("starting the generator's ceiling (the same bytes written straight to the socket) ...");
  const { verify: ceilingVerify, search: ceilingSearch } = await replayRuns(await startCeiling(logDir, answers), hot);
  say("starting the limit (bare node:http answering the recorded bytes) ...");
  const { verify: limitVerify, search: limitSearch } = await replayRuns(await startLimit(logDir, answers), hot);

  say("starting the naive peer (next start, Prisma per request) ...");
  const naive = await startNaive(logDir, database.url);
  stops.push(() => naive.child.stop());
  const naiveHot = await run(naive, "verify hot", verifyHot(hot));
  const naiveCold = await run(naive, "verify cold", verifyUniform(batches, coldSeed + 1), { requests: 1_000_000 });
  await stopLast();

  // Each ratio to the limit sits beside what the generator itself reaches on that request.
  const ceilingOf = new Map([
    [limitVerify, ceilingVerify],
    [limitSearch, ceilingSearch],
  ]);
  const closedLoop: Row[] = [
    {
      scenario: "verify hot (Zipf s=1.1 over 1,000 tokens)",
      server: "ceiling",
      measured: ceilingVerify,
      note: "wrk against the same bytes written straight to the socket",
    },
    {
      scenario: "verify hot (Zipf s=1.1 over 1,000 tokens)",
      server: "limit",
      measured: limitVerify,
      limit: limitVerify,
      note: "node:http answering the recorded bytes",
    },
    { scenario: "verify hot (Zipf s=1.1 over 1,000 tokens)", server: "naive", measured: naiveHot },
    {
      scenario: "verify hot (Zipf s=1.1 over 1,000 tokens)",
      server: "ours",
      measured: oursHot,
      limit: limitVerify,
      naive: naiveHot,
    },
    {
      scenario: "verify hot, constant rate",
      server: "ours",
      measured: oursRated,
      note: `${(oursHot.rps * 0.8).toFixed(0)} req/s offered (80% of max)${lateNote(oursRated)}`,
    },
    { scenario: `verify cold (uniform over ${batches.toLocaleString("en-US")})`, server: "naive", measured: naiveCold },
    {
      scenario: `verify cold (uniform over ${batches.toLocaleString("en-US")})`,
      server: "ours",
      measured: oursCold,
      limit: limitVerify,
      naive: naiveCold,
    },
    {
      scenario: "search first page",
      server: "ceiling",
      measured: ceilingSearch,
      note: "wrk against the same bytes written straight to the socket",
    },
    {
      scenario: "search first page",
      server: "limit",
      measured: limitSearch,
      limit: limitSearch,
      note: "node:http answering the recorded bytes",
    },
    { scenario: "search first page", server: "ours", measured: oursFirst, limit: limitSearch },
    { scenario: "search page 500 (cursor)", server: "ours", measured: oursDeep, limit: limitSearch },
    {
      scenario: "search filtered (crop, cert., quality, region)",
      server: "ours",
      measured: oursFiltered,
      limit: limitSearch,
    },
    {
      scenario: "search at random depths (each cursor once: the database, no cache)",
      server: "ours",
      measured: oursAnyDepth,
      limit: limitSearch,
    },
  ];
  rows.push(
    ...closedLoop.map((row) => ({ ...row, ceiling: row.limit && ceilingOf.get(row.limit) })),
    ...(
      [
        ["search first page", oursFirst, firstRated],
        ["search page 500 (cursor)", oursDeep, deepRated],
        ["search filtered", oursFiltered, filteredRated],
      ] as const
    ).map(([scenario, max, measured]) => ({
      scenario: `${scenario}, constant rate`,
      server: "ours" as const,
      measured,
      note: `${(max.rps * 0.8).toFixed(0)} req/s offered (80% of max)${lateNote(measured)}`,
    })),
    {
      scenario: "mixed journey (verify 50, search 25, /marketplace 15, /analytics 10)",
      server: "ours",
      measured: oursJourney,
    },
  );

  await tracingCost();

  say("Redis kill: two GreenLedger instances on a redis-server of the bench's own ...");
  const redis = await startRedis(logDir);
  stops.push(() => redis.stop());
  await database.resetChain();
  const killPrefix = `gl-bench-${runId}-kill:`;
  const shared = { databaseUrl: database.url, redisUrl: redis.url, keyPrefix: killPrefix };
  const oursRedis = await startOurs("ours-redis", logDir, shared);
  stops.push(() => oursRedis.child.stop());
  const chain = { rpcUrl: oursRedis.chainRpcUrl, contract: await database.contract() };
  // The peer only answers probes; small pools keep both instances inside PostgreSQL's 100 connections.
  const peerPools = { DB_POOL_READ_MAX: "8", DB_POOL_WRITE_MAX: "4", DB_POOL_ANALYTICS_MAX: "2" };
  const peer = await startOurs("ours-redis-peer", logDir, { ...shared, chain, env: peerPools });
  stops.push(() => peer.child.stop());
  const pastL1 = verifyPastL1(hot, batches, 20_000);
  const max = await run(oursRedis, "verify past L1, closed loop", pastL1);
  const rate = Math.max(1, Math.round(max.rps * 0.5));
  const killRun = { rate, seconds: killSeconds };
  const before = await run(oursRedis, "Redis up", pastL1, killRun);
  const probeUp = await probeL2(oursRedis, peer);
  // Each change happens under load, a moment into its run, so the run includes the transition.
  const moment = Math.min(1_000, (killRun.seconds * 1000) / 3);
  const killing = delay(moment).then(() => redis.kill());
  const during = await run(oursRedis, "Redis killed", pastL1, killRun);
  await killing;
  const probeDown = await probeL2(oursRedis, peer);
  // Probed from the moment Redis answers again, while the run goes on.
  const resuming = delay(moment)
    .then(() => redis.restart())
    .then(() => l2Resumes(oursRedis, peer, performance.now()));
  const after = await run(oursRedis, "Redis restarted", pastL1, killRun);
  const resumed = await resuming;
  const probeAfter = resumed.hits;
  const failed = probeFailures ? `; ${probeFailures} probe requests failed` : "";
  const probeNote = (hits: number | null, when = "") =>
    hits === null
      ? "L2 probe: n/a (no L2 hit counter in GET /api/metrics)"
      : `L2 probe: ${hits} of ${PROBE_TOKENS} read from Redis by the peer${when}${failed}`;
  rows.push(
    {
      scenario: "Redis up (70% hot, 30% over 20,000 tokens)",
      server: "ours",
      measured: before,
      note: `${rate} req/s offered; ${probeNote(probeUp)}`,
    },
    {
      scenario: `Redis SIGKILLed ${moment / 1000} s into the run`,
      server: "ours",
      measured: during,
      note: probeNote(probeDown, " while Redis was down"),
    },
    {
      scenario: `Redis restarted ${moment / 1000} s into the run`,
      server: "ours",
      measured: after,
      note: probeNote(probeAfter, ` ${resumed.seconds.toFixed(1)} s after the restart`),
    },
  );

  const within = (a: number, b: number) => Math.abs(a - b) / Math.max(a, b) <= 0.2;
  const killErrors = during.errors + during.non2xx + after.errors + after.non2xx;
  const journeyFailures = oursJourney.errors + oursJourney.non2xx;
  results.push(
    {
      // A limit near the generator's ceiling would be the generator's number, and every ratio to it inflated.
      target: "the generator outruns the limit (ceiling >= 1.5x the limit's req/s)",
      measured: `verify ${ceilingVerify.rps.toFixed(0)} vs ${limitVerify.rps.toFixed(0)}, search ${ceilingSearch.rps.toFixed(0)} vs ${limitSearch.rps.toFixed(0)} req/s`,
      pass: ceilingVerify.rps >= 1.5 * limitVerify.rps && ceilingSearch.rps >= 1.5 * limitSearch.rps,
    },
    {
      target: "cached verification >= 0.5x the limit (req/s)",
      measured: `${(oursHot.rps / limitVerify.rps).toFixed(2)}x`,
      pass: oursHot.rps >= 0.5 * limitVerify.rps,
    },
    {
      target: "cached verification P99.9 < 150 ms at 80% of its max rate",
      measured: `${oursRated.p999.toFixed(1)} ms at ${(oursHot.rps * 0.8).toFixed(0)} req/s`,
      pass: oursRated.p999 < 150 && oursRated.errors + oursRated.non2xx === 0,
    },
    {
      target: "cold verification >= 0.15x the limit (req/s)",
      measured: `${(oursCold.rps / limitVerify.rps).toFixed(2)}x`,
      pass: oursCold.rps >= 0.15 * limitVerify.rps,
    },
    {
      target: "search first page >= 0.35x the limit (req/s)",
      measured: `${(oursFirst.rps / limitSearch.rps).toFixed(2)}x`,
      pass: oursFirst.rps >= 0.35 * limitSearch.rps,
    },
    {
      target: "search first page and page 500 within 20% (req/s and P99)",
      measured: `${oursFirst.rps.toFixed(0)} vs ${oursDeep.rps.toFixed(0)} req/s; P99 ${oursFirst.p99.toFixed(1)} vs ${oursDeep.p99.toFixed(1)} ms`,
      pass: within(oursFirst.rps, oursDeep.rps) && within(Math.max(oursFirst.p99, 1), Math.max(oursDeep.p99, 1)),
    },
    {
      target: `search P99.9 < 300 ms at the measured sustainable rate (${batches.toLocaleString("en-US")} rows)`,
      measured: `at 80% of max: first ${firstRated.p999.toFixed(1)}, page 500 ${deepRated.p999.toFixed(1)}, filtered ${filteredRated.p999.toFixed(1)} ms`,
      pass:
        Math.max(firstRated.p999, deepRated.p999, filteredRated.p999) < 300 &&
        [firstRated, deepRated, filteredRated].every((measured) => measured.errors + measured.non2xx === 0),
    },
    {
      // The design's k6 journey cannot run here (k6 is not installable); this journey is its stand-in, held to the
      // design's thresholds for it. Closed loop at the server's maximum, so the P99 is the saturated one.
      target: "mixed journey: P99 < 500 ms, errors < 10 % (the design's k6 thresholds)",
      measured: `P99 ${oursJourney.p99.toFixed(1)} ms; ${journeyFailures} of ${oursJourney.requests.toLocaleString("en-US")} failed or non-2xx`,
      pass: oursJourney.p99 < 500 && journeyFailures < 0.1 * oursJourney.requests,
    },
    {
      target: "Redis killed: no errors",
      measured: `${killErrors} errors/non-2xx while down and after restart`,
      pass: killErrors === 0,
    },
    {
      target: "Redis killed: P99 grows by < 5 ms",
      measured: `${before.p99.toFixed(1)} -> ${during.p99.toFixed(1)} ms (${during.p99 - before.p99 >= 0 ? "+" : ""}${(during.p99 - before.p99).toFixed(1)} ms)`,
      pass: during.p99 - before.p99 < 5,
    },
    {
      target: "Redis restarted: L2 hits resume",
      measured:
        probeAfter === null
          ? "n/a (no L2 hit counter in GET /api/metrics)"
          : `${probeAfter} of ${PROBE_TOKENS} probe tokens read from Redis ${resumed.seconds.toFixed(1)} s after the restart (${probeUp ?? "n/a"} before the kill)`,
      pass: probeAfter === null ? null : probeAfter > 0,
    },
  );
}

async function cleanup(): Promise<void> {
  while (stops.length) await stopLast().catch((error: unknown) => say(`cleanup: ${(error as Error).message}`));
}

process.on("SIGINT", () => {
  void cleanup().then(() => process.exit(130));
});

let failed = false;
try {
  await main();
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  await cleanup();
}

if (rows.length) {
  const title = flags.topology
    ? "Many instances (npm run bench -- --topology)"
    : flags.tracing
      ? "Tracing cost (npm run bench -- --tracing)"
      : "Hot paths (npm run bench)";
  const data = flags.tracing
    ? `- Data: ${batches.toLocaleString("en-US")} batches on PostgreSQL; ${connections} connections; two GreenLedger servers on one database, Redis and chain, one with OTEL_SDK_DISABLED=true; each setting measured in ${TRACING_ROUNDS} runs of ${TRACING_RUN_SECONDS} s after ${warmSeconds} s of warm-up, interleaved (the order alternating) and each started once the machine is idle; the best run of each is compared, the median shown beside it; load generator: wrk 4.1 (Debian), one thread with every connection, on the same machine`
    : flags.topology
      ? `- Data: ${batches.toLocaleString("en-US")} batches on the topology's own PostgreSQL; ${connections} connections per generator; ${journeySeconds} s per measured run (the closed-loop maximum after ${warmSeconds} s of warm-up, then API calls and pages at 80% of it from two wrk processes side by side, each pacing its share; bench/wrk.lua); everything, wrk included, on this one machine`
      : `- Data: ${batches.toLocaleString("en-US")} batches on PostgreSQL; ${connections} connections; ${seconds} s per measured run after ${warmSeconds} s of warm-up (the Redis kill steps ${killSeconds} s, the journey ${journeySeconds} s), each started once the machine is idle (under 10% CPU for 0.5 s) and the database settled first (vacuumed, read into the page cache, checkpointed); load generator: wrk 4.1 (Debian), one thread with every connection, on the same machine; the constant-rate runs share one fixed schedule among the connections and report an upper bound of the latency from each scheduled send (the union bound: P99.9 <= P99.95 of how late sends left + wrk's P99.95 from the send; bench/wrk.lua)`;
  const section = [
    `## ${title}, ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`,
    "",
    `- Command: \`${command}\``,
    `- Machine: ${machineLine}`,
    `- Seeding: ${seeding}`,
    data,
    "",
    table(rows),
    "",
    checks(results),
  ].join("\n");
  console.log(`\n${section}\n`);
  if (!flags["no-record"] && !failed) {
    appendResults(path.resolve("bench/RESULTS.md"), section);
    say("appended to bench/RESULTS.md");
  }
}
if (!failed && !flags.keep) rmSync(logDir, { recursive: true, force: true });
if (failed || flags.keep) say(`server logs: ${logDir}`);
process.exit(failed ? 1 : 0);
