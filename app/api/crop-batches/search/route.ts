import { readJson } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { searchSchema } from "@/lib/batches/schema";
import { searchJson } from "@/lib/batches/search-batches-cached";

export const POST = route("public", async ({ request }) => {
  const input = await readJson(request, searchSchema);
  return new Response(await searchJson(input), { headers: { "content-type": "application/json" } });
});
