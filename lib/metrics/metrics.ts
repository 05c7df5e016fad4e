import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { CHAIN_SYNC_BUCKETS, LATENCY_BUCKETS } from "@/lib/metrics/buckets.mjs";

type PoolStats = { totalCount: number; idleCount: number; waitingCount: number };

function createMetrics() {
  const registry = new Registry();
  const pools = new Map<string, PoolStats>();
  collectDefaultMetrics({ register: registry, prefix: "gl_" });
  const registers = [registry];
  // The fast path's counts are plain numbers, added to their counters whenever those are read: every answer is
  // counted, and none pays for a label lookup.
  const l1Hits = new Map<string, number>();
  let fastAnswers = 0;
  return {
    registry,
    countL1Hit(namespace: string): void {
      l1Hits.set(namespace, (l1Hits.get(namespace) ?? 0) + 1);
    },
    countFastAnswer(): void {
      fastAnswers += 1;
    },
    httpDuration: new Histogram({
      name: "gl_http_request_duration_seconds",
      help: "Time to answer an HTTP request, by route pattern, method and status.",
      labelNames: ["route", "method", "status"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    operationDuration: new Histogram({
      name: "gl_operation_duration_seconds",
      help: "Time of a data operation behind the cache (what a miss costs), by operation.",
      labelNames: ["operation"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    cacheRequests: new Counter({
      name: "gl_cache_requests_total",
      help: "Cache lookups by namespace and where they were answered: l1, l2 or miss (loaded from the database).",
      labelNames: ["namespace", "result"] as const,
      registers,
      collect() {
        for (const [namespace, hits] of l1Hits) this.inc({ namespace, result: "l1" }, hits);
        l1Hits.clear();
      },
    }),
    fastPath: new Counter({
      name: "gl_fast_path_responses_total",
      help: "Verification answers the gateway served without Next.",
      registers,
      collect() {
        if (fastAnswers) this.inc(fastAnswers);
        fastAnswers = 0;
      },
    }),
    gatewayRoutes: new Counter({
      name: "gl_gateway_route_responses_total",
      help: "Route handlers the gateway called directly, without Next, by path.",
      labelNames: ["route"] as const,
      registers,
    }),
    nextRequests: new Counter({
      name: "gl_next_requests_total",
      help: "Requests handed to Next (pages rendered, its route handlers), by route pattern: what no cache answered.",
      labelNames: ["route"] as const,
      registers,
    }),
    rateLimited: new Counter({
      name: "gl_rate_limit_rejections_total",
      help: "Requests answered 429, by scope (ip: public endpoints, session: writes).",
      labelNames: ["scope"] as const,
      registers,
    }),
    cspViolations: new Counter({
      name: "gl_csp_violations_total",
      help: "Content-Security-Policy violations browsers reported, by directive.",
      labelNames: ["directive"] as const,
      registers,
    }),
    errors: new Counter({
      name: "gl_errors_total",
      help: "Errors by kind: http_5xx, redis, purge, database_unavailable (a request answered 503 while the database was away).",
      labelNames: ["kind"] as const,
      registers,
    }),
    redisCircuit: new Gauge({
      name: "gl_redis_circuit_open",
      help: "1 while the Redis circuit breaker is open (the cache answers from L1 and the database).",
      registers,
    }),
    warmup: new Gauge({
      name: "gl_cache_warmup",
      help: "The last start's cache warm-up: entries loaded and seconds taken.",
      labelNames: ["measure"] as const,
      registers,
    }),
    positionsRejected: new Counter({
      name: "gl_positions_rejected_total",
      help: "Transporters' fixes not believed, by reason (future, too_old, too_fast, inaccurate, ...).",
      labelNames: ["reason"] as const,
      registers,
    }),
    liveStreams: new Gauge({
      name: "gl_live_streams",
      help: "Live tracking streams (SSE) open on this process.",
      registers,
    }),
    liveDeliveryLag: new Histogram({
      name: "gl_live_delivery_seconds",
      help: "From a position's publish to its write to a watcher's connection (by this process's clock).",
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    liveSlowClosed: new Counter({
      name: "gl_live_slow_watchers_closed_total",
      help: "Live streams closed because the watcher did not read fast enough (unsent data over the limit).",
      registers,
    }),
    liveResumes: new Counter({
      name: "gl_live_resumes_total",
      help: "Live streams that reconnected with Last-Event-ID: replayed what was missed, or sent a snapshot.",
      labelNames: ["kind"] as const,
      registers,
    }),
    chainSync: new Histogram({
      name: "gl_chain_sync_seconds",
      help: "From a chain event's block timestamp (the chain's clock, whole seconds) to its row committed in PostgreSQL, once per indexed event.",
      buckets: CHAIN_SYNC_BUCKETS,
      registers,
    }),
    chainLag: new Gauge({
      name: "gl_chain_lag_blocks",
      help: "Blocks from the chain's head to the last indexed block, after the indexer's last step (0 where no indexer runs).",
      registers,
    }),
    chainPolled: new Gauge({
      name: "gl_chain_indexer_polled_timestamp_seconds",
      help: "When the indexer last read the chain and the database without an error (Unix time; 0 where no indexer runs).",
      registers,
    }),
    attachmentsWaiting: new Gauge({
      name: "gl_attachments_waiting",
      help: "Attachments received and not yet ready (waiting for processing, or retrying), as a worker last counted them.",
      registers,
    }),
    attachmentOldestWaiting: new Gauge({
      name: "gl_attachment_oldest_waiting_seconds",
      help: "How long the oldest received attachment has waited to be ready, as a worker last counted it.",
      registers,
    }),
    pools,
    pool: new Gauge({
      name: "gl_db_pool_connections",
      help: "Database pool connections by pool and state (total, idle, waiting clients).",
      labelNames: ["pool", "state"] as const,
      registers,
      collect() {
        for (const [pool, stats] of pools) {
          this.set({ pool, state: "total" }, stats.totalCount);
          this.set({ pool, state: "idle" }, stats.idleCount);
          this.set({ pool, state: "waiting" }, stats.waitingCount);
        }
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

// Next's server bundle and server.ts load their own copies of this module: one registry per process.
const key = Symbol.for("greenledger.metrics");
const holder = globalThis as typeof globalThis & { [key]?: Metrics };
holder[key] ??= createMetrics();
export const metrics = holder[key];

/** Reported as gl_db_pool_connections at each scrape. */
export function watchPools(pools: Record<string, PoolStats>): void {
  for (const [name, pool] of Object.entries(pools)) metrics.pools.set(name, pool);
}
