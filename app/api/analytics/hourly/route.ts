import { getHourlyAnalytics, hourlyQuerySchema } from "@/lib/analytics/get-hourly-analytics";
import { parseWith } from "@/lib/api/body";
import { route } from "@/lib/api/handler";

export const GET = route("public", async ({ request }) => {
  const query = parseWith(hourlyQuerySchema, Object.fromEntries(new URL(request.url).searchParams), "query");
  return Response.json({ points: await getHourlyAnalytics(query) });
});
