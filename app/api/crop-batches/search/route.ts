import { readJson } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { searchSchema } from "@/lib/batches/schema";
import { searchBatches } from "@/lib/batches/search-batches";

export const POST = route("public", async ({ request }) => {
  const input = await readJson(request, searchSchema);
  return Response.json(await searchBatches(input));
});
