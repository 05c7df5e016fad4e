// Preloaded (`node --import ./lib/observability/tracing/register.mjs --import tsx server.ts`): pg and ioredis are
// hooked only if the hooks exist before server.ts imports them, and Next's instrumentation.ts runs after that.
import { register } from "node:module";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { env } from "../../env.mjs";
import { RecentTraces } from "./recent-traces.mjs";
import { AdaptiveSampler } from "./sampler.mjs";
import { TRACING } from "./state.mjs";

if (!env.OTEL_SDK_DISABLED) {
  // Only these modules go through the ESM hook: wrapping every module would slow the start and Next's own.
  register("import-in-the-middle/hook.mjs", import.meta.url, { data: { include: ["pg", "pg-pool", "ioredis"] } });
  const sampler = new AdaptiveSampler({
    name: env.OTEL_TRACES_SAMPLER,
    ratio: env.OTEL_TRACES_SAMPLER_ARG,
    boostRatio: env.TRACE_BOOST_RATIO,
  });
  const traces = new RecentTraces();
  const exporting =
    env.OTEL_TRACES_EXPORTER === "otlp" &&
    Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      "service.name": env.OTEL_SERVICE_NAME,
      "service.instance.id": `${process.pid}`,
    }),
    sampler,
    // The exporter reads OTEL_EXPORTER_OTLP_* (endpoint, headers, timeout) and OTEL_BSP_* itself.
    spanProcessors: exporting ? [traces, new BatchSpanProcessor(new OTLPTraceExporter())] : [traces],
  });
  provider.register();
  // Database and Redis spans only inside a sampled trace: on their own they would be roots at every query.
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  /** @type {import("./state.mjs").TracingState} */
  const state = { sampler, traces, exporting, exemplars: new Map(), flush: () => provider.forceFlush() };
  Object.assign(globalThis, { [TRACING]: state });
}
