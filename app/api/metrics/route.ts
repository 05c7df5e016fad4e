import { route } from "@/lib/api/handler";
import { readMetrics } from "@/lib/metrics/read-metrics";

export const GET = route("public", async ({ request }) => {
  const { body, contentType } = await readMetrics(request.headers.get("authorization"));
  return new Response(body, { headers: { "content-type": contentType, "cache-control": "no-store" } });
});
