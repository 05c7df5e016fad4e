import { createPublicClient, http } from "viem";
import { dbRead } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";
import { tracedTransport } from "@/lib/observability/tracing/traced-transport";

export type ChainStatus = {
  status: "up" | "down";
  chainId: number;
  embedded: boolean;
  head: number | null;
  indexed: number | null;
  lagBlocks: number | null;
  queuedJobs: number;
};

const client = createPublicClient({
  transport: tracedTransport(http(env.chain.rpcUrl, { timeout: 2_000, retryCount: 0 })),
  cacheTime: 0,
});

/** The node's head against the indexer's cursor (the indexer lag), and the relayer's backlog. */
export async function getChainStatus(): Promise<ChainStatus> {
  const [head, cursor, queuedJobs] = await Promise.all([
    client.getBlockNumber().catch(() => null),
    dbRead.chainCursor.findUnique({ where: { chainId: env.chain.chainId } }),
    dbRead.chainJob.count({ where: { status: { in: ["queued", "sent"] } } }),
  ]);
  const indexed = cursor ? Number(cursor.blockNumber) : null;
  return {
    status: head === null ? "down" : "up",
    chainId: env.chain.chainId,
    embedded: env.chain.embedded,
    head: head === null ? null : Number(head),
    indexed,
    lagBlocks: head === null || indexed === null ? null : Math.max(0, Number(head) - indexed),
    queuedJobs,
  };
}
