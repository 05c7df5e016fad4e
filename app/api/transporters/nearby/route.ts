import { parseWith } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { findNearbyTransporters, nearbySchema } from "@/lib/transporters/find-nearby";

export const GET = route("signed-in", async ({ request }) => {
  const query = parseWith(nearbySchema, Object.fromEntries(new URL(request.url).searchParams), "query");
  return Response.json({ transporters: await findNearbyTransporters(query) });
});
