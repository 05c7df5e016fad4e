// Plain JavaScript: the tracing preload (register.mjs) sets it before any TypeScript loader runs.

/**
 * @typedef {{ traceId: string; seconds: number; at: number }} Exemplar
 * @typedef {{
 *   sampler: import("./sampler.mjs").AdaptiveSampler;
 *   traces: import("./recent-traces.mjs").RecentTraces;
 *   exporting: boolean;
 *   exemplars: Map<string, Map<number, Exemplar>>;
 *   flush(): Promise<void>;
 * }} TracingState
 */

// The preload, server.ts and Next's bundle each load their own copy of the modules: the state is the process's.
export const TRACING = Symbol.for("greenledger.tracing");

/** The process's tracing, or undefined when the preload did not run or OTEL_SDK_DISABLED is set. */
export function tracingState() {
  return /** @type {TracingState | undefined} */ (/** @type {Record<symbol, unknown>} */ (globalThis)[TRACING]);
}
