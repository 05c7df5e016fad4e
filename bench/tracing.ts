import type { Measured } from "@/bench/load";
import { record } from "@/bench/recorded";
import type { Check, Row } from "@/bench/report";
import { SEARCH_PATH, search, verifyHot } from "@/bench/scenarios";
import { type Server, startCeiling, startOurs } from "@/bench/servers";
import type { Runner } from "@/bench/topology";

export type TracingBenchOptions = {
  databaseUrl: string;
  redisUrl: string;
  keyPrefix: string;
  hot: number[];
  logDir: string;
  run: Runner;
  say: (text: string) => void;
  stops: (() => Promise<unknown>)[];
};

// Each pair is measured this many times, alternating which server goes first, so drift over the run falls on both.
const ROUNDS = 2;
const MAX_COST = 0.1;

const mean = (runs: Measured[]): Measured => {
  const average = (pick: (measured: Measured) => number) => runs.reduce((sum, run) => sum + pick(run), 0) / runs.length;
  const first = runs[0] as Measured;
  return {
    ...first,
    requests: runs.reduce((sum, run) => sum + run.requests, 0),
    rps: average((run) => run.rps),
    p50: average((run) => run.p50),
    p99: average((run) => run.p99),
    p999: average((run) => run.p999),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    statuses: runs.reduce<Record<string, number>>((sum, run) => {
      for (const [status, count] of Object.entries(run.statuses)) sum[status] = (sum[status] ?? 0) + count;
      return sum;
    }, {}),
  };
};

/**
 * What tracing at its default sampling costs the cached verification and the search's first page: the same server
 * with tracing on (the preload, 1 % of new traces sampled, nothing exported) and with OTEL_SDK_DISABLED=true, on the
 * same database and Redis, their runs interleaved.
 */
export async function tracingBench(options: TracingBenchOptions): Promise<{ rows: Row[]; results: Check[] }> {
  const { hot, logDir, run, say, stops } = options;
  const shared = { databaseUrl: options.databaseUrl, redisUrl: options.redisUrl, keyPrefix: options.keyPrefix };
  say("tracing cost: GreenLedger with tracing on (default sampling) and with OTEL_SDK_DISABLED=true ...");
  const traced = await startOurs("ours-traced", logDir, shared);
  stops.push(() => traced.child.stop());
  const untraced = await startOurs("ours-untraced", logDir, { ...shared, env: { OTEL_SDK_DISABLED: "true" } });
  stops.push(() => untraced.child.stop());
  const answers = {
    verify: await record(untraced.base, { method: "GET", path: `/api/verify/${hot[0]}` }),
    search: await record(untraced.base, { method: "POST", path: SEARCH_PATH, body: JSON.stringify({ limit: 20 }) }),
  };

  const runs = new Map<Server, { verify: Measured[]; search: Measured[] }>([
    [traced, { verify: [], search: [] }],
    [untraced, { verify: [], search: [] }],
  ]);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [traced, untraced] : [untraced, traced];
    for (const server of order) runs.get(server)?.verify.push(await run(server, "verify hot", verifyHot(hot)));
    for (const server of order) {
      runs.get(server)?.search.push(await run(server, "search first page", search({ limit: 20 })));
    }
  }
  await traced.child.stop();
  await untraced.child.stop();

  say("tracing cost: the generator's ceiling on the same bytes ...");
  const ceiling = await startCeiling(logDir, answers);
  stops.push(() => ceiling.child.stop());
  const ceilingVerify = await run(ceiling, "verify hot", verifyHot(hot));
  const ceilingSearch = await run(ceiling, "search first page", search({ limit: 20 }));
  await ceiling.child.stop();

  const on = runs.get(traced) as { verify: Measured[]; search: Measured[] };
  const off = runs.get(untraced) as { verify: Measured[]; search: Measured[] };
  const note = `mean of ${ROUNDS} runs, interleaved with the other setting`;
  const verifyOn = mean(on.verify);
  const verifyOff = mean(off.verify);
  const searchOn = mean(on.search);
  const searchOff = mean(off.search);
  const cost = (withTracing: Measured, without: Measured) => 1 - withTracing.rps / without.rps;
  const percent = (value: number) => `${(value * 100).toFixed(1)} %`;
  return {
    rows: [
      { scenario: "verify hot, tracing off (OTEL_SDK_DISABLED=true)", server: "ours", measured: verifyOff, note },
      {
        scenario: "verify hot, tracing on (1 % sampled, not exported)",
        server: "ours",
        measured: verifyOn,
        ceiling: ceilingVerify,
        note,
      },
      { scenario: "search first page, tracing off", server: "ours", measured: searchOff, note },
      { scenario: "search first page, tracing on", server: "ours", measured: searchOn, ceiling: ceilingSearch, note },
    ],
    results: [
      {
        target: `tracing at the default sampling costs <= ${MAX_COST * 100} % req/s (cached verification, search first page)`,
        measured: `verify ${verifyOn.rps.toFixed(0)} vs ${verifyOff.rps.toFixed(0)} req/s (${percent(cost(verifyOn, verifyOff))}), search ${searchOn.rps.toFixed(0)} vs ${searchOff.rps.toFixed(0)} req/s (${percent(cost(searchOn, searchOff))}); generator ceiling ${ceilingVerify.rps.toFixed(0)} / ${ceilingSearch.rps.toFixed(0)} req/s`,
        pass: cost(verifyOn, verifyOff) <= MAX_COST && cost(searchOn, searchOff) <= MAX_COST,
      },
    ],
  };
}
