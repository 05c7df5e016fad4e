import { route } from "@/lib/api/handler";
import { analyzeTraceById } from "@/lib/observability/analyze-trace";

/** A trace's critical path and its bottlenecks with what to do (`npm run trace:analyze` prints it). */
export const GET = route<{ traceId: string }>("operator", async ({ params }) =>
  Response.json(await analyzeTraceById(params.traceId), { headers: { "cache-control": "no-store" } }),
);
