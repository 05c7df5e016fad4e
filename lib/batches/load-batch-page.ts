import "server-only";
import { notFound } from "next/navigation";
import { cache } from "react";
import { ApiError } from "@/lib/api/errors";
import { type BatchWithTimeline, getBatchOrThrow } from "@/lib/batches/get-batch-or-throw";
import { tokenIdSchema } from "@/lib/batches/schema";

/** A batch page's data, or the 404 page; cached so generateMetadata and the page share one query per request. */
export const loadBatchPage = cache(async (rawTokenId: string): Promise<BatchWithTimeline> => {
  const tokenId = tokenIdSchema.safeParse(rawTokenId);
  if (!tokenId.success) notFound();
  try {
    return await getBatchOrThrow(tokenId.data);
  } catch (error) {
    if (error instanceof ApiError && error.code === "not_found") notFound();
    throw error;
  }
});
