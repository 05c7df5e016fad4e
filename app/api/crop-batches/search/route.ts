import { readJson } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { searchSchema } from "@/lib/batches/schema";
import { searchAnswer } from "@/lib/batches/search-batches-cached";

export const POST = route("public", async ({ request }) => {
  const input = await readJson(request, searchSchema);
  const { body, headers } = await searchAnswer(input);
  return new Response(body, { headers });
});
