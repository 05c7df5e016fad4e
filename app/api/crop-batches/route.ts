import { parseWith, readJson } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { type CreateBatchResult, createBatch } from "@/lib/batches/create-batch";
import { listMyBatches, myBatchesQuerySchema } from "@/lib/batches/list-my-batches";
import { createBatchSchema } from "@/lib/batches/schema";
import { readIdempotencyKey, withIdempotency } from "@/lib/idempotency/with-idempotency";

export const POST = route(["farmer", "admin"], async ({ request, user }) => {
  const key = readIdempotencyKey(request);
  const input = await readJson(request, createBatchSchema);
  const respond = ({ batch, created }: CreateBatchResult) => ({ status: created ? 201 : 200, body: batch });
  if (!key) {
    const { status, body } = respond(await createBatch(input, user.address));
    return Response.json(body, { status });
  }
  const { status, json, replayed } = await withIdempotency(
    user.address,
    key,
    { path: "POST /api/crop-batches", input },
    respond,
    (transaction) => createBatch(input, user.address, transaction),
  );
  return new Response(json, {
    status,
    headers: { "content-type": "application/json", ...(replayed ? { "Idempotent-Replayed": "true" } : {}) },
  });
});

/** The caller's own batches, newest first (what the farmer app lists beside its outbox). */
export const GET = route("signed-in", async ({ request, user }) => {
  const query = parseWith(myBatchesQuerySchema, Object.fromEntries(new URL(request.url).searchParams), "query");
  return Response.json(await listMyBatches(user.address, query));
});
