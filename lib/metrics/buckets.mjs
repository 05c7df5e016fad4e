// Plain JavaScript: lib/env.mjs, which next.config.mjs loads without a TypeScript loader, checks SLA bounds against them.

/** From 0.1 ms to 10 s, dense enough around the targets (100/150/300 ms) to read P50, P99 and P99.9. */
export const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3,
  0.5, 0.75, 1, 2.5, 5, 10,
];

/** Block timestamps are whole seconds; 15 s is chain sync's SLA bound. */
export const CHAIN_SYNC_BUCKETS = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300];
