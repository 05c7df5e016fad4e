import { readJson } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { consumeRateLimit } from "@/lib/api/rate-limit";
import { positionsSchema } from "@/lib/tracking/fixes";
import { recordPositions } from "@/lib/tracking/record-positions";

export const POST = route(["transporter"], async ({ request, user }) => {
  await consumeRateLimit("positions", user.address);
  const input = await readJson(request, positionsSchema);
  return Response.json(await recordPositions(user, input));
});
