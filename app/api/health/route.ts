import { route } from "@/lib/api/handler";
import { getHealth } from "@/lib/health/get-health";

export const GET = route("public", async () => {
  const health = await getHealth();
  return Response.json(health, {
    status: health.status === "down" ? 503 : 200,
    headers: { "Cache-Control": "no-store" },
  });
});
