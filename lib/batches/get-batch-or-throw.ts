import "server-only";
import { ApiError } from "@/lib/api/errors";
import { type BatchDto, type TimelineEntry, toBatchDto, toTimelineEntry } from "@/lib/batches/batch-dto";
import { dbRead } from "@/lib/db/client";

export type BatchWithTimeline = BatchDto & { timeline: TimelineEntry[] };

export async function getBatchOrThrow(tokenId: number): Promise<BatchWithTimeline> {
  const batch = await dbRead.cropBatch.findUnique({
    where: { tokenId: BigInt(tokenId) },
    include: { farm: true, events: { orderBy: [{ eventTime: "asc" }, { id: "asc" }] } },
  });
  if (!batch) throw new ApiError("not_found", `There is no batch with token id ${tokenId}.`);
  return { ...toBatchDto(batch), timeline: batch.events.map(toTimelineEntry) };
}
