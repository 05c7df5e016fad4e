import { describe, expect, it } from "vitest";
import type { TraceSpan } from "@/lib/observability/critical-path";
import { adviseSpan, type PlanNode, planAdvice } from "@/lib/observability/trace-advice";

function seqScan(relation: string, filter: string, rows: Partial<PlanNode> = {}): PlanNode {
  return { "Node Type": "Seq Scan", "Relation Name": relation, Filter: filter, ...rows };
}

function span(name: string, durationMs: number, extra: Partial<TraceSpan> = {}): TraceSpan {
  return {
    traceId: "t1",
    spanId: name,
    name,
    kind: "client",
    service: "web",
    startMs: 1_765_000_000_000,
    durationMs,
    attributes: {},
    status: "ok",
    ...extra,
  };
}

describe("advice from a query plan", () => {
  it("indexes the column a Seq Scan filters on", () => {
    const plan = seqScan("crop_batches", "((crop_type)::text = 'tomato'::text)", {
      "Actual Rows": 50,
      "Rows Removed by Filter": 11_950,
    });
    expect(planAdvice(plan)).toEqual([
      "A Seq Scan on crop_batches reads every row to filter on crop_type (it removed 11,950 rows to keep 50): add " +
        "`CREATE INDEX ON crop_batches (crop_type)` (an @@index in prisma/schema.prisma and a migration).",
    ]);
  });

  it("indexes AND-ed comparisons with the equality columns first and one range column last", () => {
    const filter =
      "((harvest_date >= $2) AND (owner_address = $1) AND ((status)::text = 'active'::text) AND (quality_score > 5))";
    expect(planAdvice(seqScan("crop_batches", filter))).toEqual([
      expect.stringContaining("`CREATE INDEX ON crop_batches (owner_address, status, harvest_date)`"),
    ]);
    expect(planAdvice(seqScan("crop_batches", "((b.crop_type)::text = ANY ('{tomato,maize}'::text[]))"))).toEqual([
      expect.stringContaining("`CREATE INDEX ON crop_batches (crop_type)`"),
    ]);
  });

  it("flags a Seq Scan whose filter it cannot read without naming an index", () => {
    const filter = "((crop_type = 'tomato'::text) OR (lower((name)::text) = 'x'::text))";
    expect(planAdvice(seqScan("crop_batches", filter))).toEqual([
      `A Seq Scan on crop_batches reads every row to apply the filter ${filter}: index the columns it compares.`,
    ]);
  });

  it("leaves a Seq Scan over a small table alone", () => {
    const plan = seqScan("farms", "(owner_address = $1)", { "Actual Rows": 3, "Rows Removed by Filter": 40 });
    expect(planAdvice(plan)).toEqual([]);
  });

  it("leaves a Seq Scan planned over a small table alone, and not one over a large table", () => {
    const filter = "(token_id = ANY ($1))";
    expect(planAdvice(seqScan("crop_batches", filter, { "Total Cost": 12.5 }))).toEqual([]);
    expect(planAdvice(seqScan("crop_batches", filter, { "Total Cost": 18_250 }))).toEqual([
      expect.stringContaining("`CREATE INDEX ON crop_batches (token_id)`"),
    ]);
  });

  it("gives nothing for a plan that only uses index scans", () => {
    const plan: PlanNode = {
      "Node Type": "Limit",
      Plans: [
        {
          "Node Type": "Nested Loop",
          Plans: [
            {
              "Node Type": "Index Scan",
              "Relation Name": "crop_batches",
              "Index Name": "crop_batches_crop_harvest_covering_idx",
              "Index Cond": "((crop_type)::text = 'tomato'::text)",
              "Plan Rows": 20,
            },
            {
              "Node Type": "Index Only Scan",
              "Relation Name": "farms",
              "Index Name": "farms_pkey",
              "Index Cond": "(id = crop_batches.farm_id)",
            },
          ],
        },
      ],
    };
    expect(planAdvice(plan)).toEqual([]);
  });

  it("indexes the sort key of a Sort over many rows of one table", () => {
    const scan: PlanNode = {
      "Node Type": "Index Scan",
      "Relation Name": "crop_batches",
      "Index Name": "crop_batches_pkey",
    };
    const sort = (rows: number): PlanNode => ({
      "Node Type": "Sort",
      "Sort Key": ["b.harvest_date DESC", "b.token_id DESC"],
      "Plan Rows": rows,
      Plans: [scan],
    });
    expect(planAdvice(sort(5_000))).toEqual([
      "A Sort orders about 5,000 rows by harvest_date DESC, token_id DESC: add " +
        "`CREATE INDEX ON crop_batches (harvest_date DESC, token_id DESC)` so the scan returns them in that order and the Sort goes away.",
    ]);
    expect(planAdvice(sort(1_000))).toEqual([]);
  });

  it("flags a Nested Loop that reads its inner side with a Seq Scan", () => {
    const plan: PlanNode = {
      "Node Type": "Nested Loop",
      Plans: [
        { "Node Type": "Index Scan", "Relation Name": "crop_batches", "Actual Rows": 400 },
        { "Node Type": "Seq Scan", "Relation Name": "farms", "Plan Rows": 200 },
      ],
    };
    expect(planAdvice(plan)).toEqual([
      "A Nested Loop reads all of farms once for each of ~400 outer rows: index the column it joins on so each lookup is an index scan.",
    ]);
  });
});

describe("advice for a span on the critical path", () => {
  const statement =
    "SELECT token_id, crop_type FROM crop_batches WHERE (crop_type)::text = $1 ORDER BY harvest_date DESC";
  const pgSpan = span("pg.query:SELECT greenledger", 240, {
    attributes: {
      "db.system": "postgresql",
      "db.statement": statement,
      "db.name": "greenledger",
      "net.peer.name": "db",
    },
  });

  it("quotes the statement of a database span and says no plan was taken without one", () => {
    expect(adviseSpan(pgSpan, {})).toEqual([
      `The query to postgresql database greenledger on db took 240 ms: \`${statement}\`.`,
      "No plan could be taken for it (a write, which EXPLAIN ANALYZE would run): run `EXPLAIN (ANALYZE, BUFFERS)` on it inside a transaction you roll back.",
    ]);
  });

  it("cuts a long statement to 200 characters and adds the plan's advice and the cache's", () => {
    const long = `SELECT * FROM crop_batches WHERE token_id IN (${Array.from({ length: 100 }, (_, n) => `$${n + 1}`).join(", ")})`;
    const advice = adviseSpan(
      { ...pgSpan, attributes: { ...pgSpan.attributes, "db.statement": long } },
      { plan: seqScan("crop_batches", "((crop_type)::text = 'tomato'::text)"), cacheable: true },
    );
    expect(advice).toEqual([
      `The query to postgresql database greenledger on db took 240 ms: \`${long.slice(0, 200)}…\`.`,
      expect.stringContaining("`CREATE INDEX ON crop_batches (crop_type)`"),
      'This read sits behind the cache, so reaching the database means the cache did not hold it: check gl_cache_requests_total{result="miss"} and the cache TTL.',
    ]);
  });

  it("sends a query with a good plan to lock waits, and says a span without a statement could not be explained", () => {
    const indexed: PlanNode = {
      "Node Type": "Index Scan",
      "Relation Name": "crop_batches",
      "Index Name": "crop_batches_pkey",
    };
    expect(adviseSpan(pgSpan, { plan: indexed })[1]).toBe(
      "Its plan shows no missing index: look for lock waits (wait_event in pg_stat_activity) and at how many rows it returns.",
    );
    expect(adviseSpan({ ...pgSpan, attributes: { "db.system": "postgresql" } }, {})).toEqual([
      "The call pg.query:SELECT greenledger to postgresql took 240 ms and recorded no statement.",
      "No plan could be taken without a statement: find the query in the code path of this span.",
    ]);
  });

  it("points a slow Redis round trip at the server's latency, the circuit breaker and pipelining", () => {
    const redis = span("get", 35.25, {
      attributes: { "db.system": "redis", "db.statement": "get greenledger:verify:12" },
    });
    expect(adviseSpan(redis, {})).toEqual([
      "The Redis round trip `get greenledger:verify:12` took 35.3 ms: check the server's latency with `redis-cli --latency`, " +
        "whether the circuit breaker is open (gl_redis_circuit_open), and send commands that follow one another as one pipeline.",
    ]);
  });

  it("tells an eth_getLogs call to narrow its block range and a request to read the indexed database", () => {
    const chain = span("eth_getLogs", 1_800, {
      attributes: { "rpc.system": "jsonrpc", "rpc.method": "eth_getLogs", "gl.chain": "true" },
    });
    expect(adviseSpan(chain, {})).toEqual([
      "The RPC node took 1800 ms to answer eth_getLogs: the node is slow for this method, check its latency with the provider.",
      "eth_getLogs reads every block in its range: narrow fromBlock and toBlock to the blocks that can hold the events.",
      "If this eth_getLogs serves a request, read from the indexed database instead: the indexer keeps it in step with the chain.",
    ]);
    const send = { ...chain, attributes: { ...chain.attributes, "rpc.method": "eth_sendRawTransaction" } };
    expect(adviseSpan(send, {})).toHaveLength(1);
  });

  it("says the cache missed for a cache span that missed", () => {
    const cache = span("cache verify", 90, {
      kind: "internal",
      attributes: { "gl.cache.namespace": "verify", "gl.cache.result": "miss" },
    });
    expect(adviseSpan(cache, { onPathMs: 5 })).toEqual([
      'The cache missed in namespace verify, so the request paid for loading the value: compare gl_cache_requests_total{namespace="verify",result="miss"} ' +
        "with its hits and check whether the TTL is shorter than the time between reads.",
    ]);
  });

  it("sends a handler busy in its own code to the CPU profiler, and one waiting on its children nowhere", () => {
    const handler = span("GET /api/batches", 300, {
      kind: "server",
      attributes: { "http.route": "/api/batches", "http.request.method": "GET", "http.response.status_code": 200 },
    });
    expect(adviseSpan(handler, { onPathMs: 250 })).toEqual([
      "The handler for GET /api/batches spent its time in its own code, not waiting on a child span: profile it with `node --cpu-prof` " +
        "and check the event-loop delay gauge gl_nodejs_eventloop_lag_p99_seconds (a blocked loop delays every request in the process).",
    ]);
    expect(adviseSpan(handler, { onPathMs: 20 })).toEqual([]);
  });

  it("says a span failed", () => {
    const failed = span("eth_call", 40, {
      status: "error",
      attributes: { "rpc.method": "eth_call", "gl.chain": "true" },
    });
    expect(adviseSpan(failed, {})[0]).toBe(
      "The span eth_call failed: read its exception event and the web logs for trace t1; a timeout or a retry here costs time too.",
    );
  });
});
