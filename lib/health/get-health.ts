import { cacheKind, pingCache } from "@/lib/cache/tiered-cache";
import { type ChainStatus, getChainStatus } from "@/lib/chain/chain-status";
import { dbRead } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";
import type { PrismaClient } from "@/lib/generated/prisma/client";

export type Health = {
  status: "ok" | "degraded" | "down";
  database: { status: "up" | "down"; engine: "embedded-pglite" | "postgresql"; latencyMs: number | null };
  cache: { status: "up" | "down"; kind: "memory" | "redis" };
  /** null while the database is down: the indexer's cursor and the relayer's queue live there. */
  chain: ChainStatus | null;
};

/** A database that does not answer a probe within this long counts as down (the pool would wait 10 s to connect). */
export const DATABASE_PROBE_TIMEOUT_MS = 2_000;

export function databaseAnswers(client: PrismaClient = dbRead): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, DATABASE_PROBE_TIMEOUT_MS, false);
  });
  const probe = client.$queryRaw`SELECT 1`.then(
    () => true,
    () => false,
  );
  return Promise.race([probe, timedOut]).finally(() => clearTimeout(timer));
}

export async function getHealth(): Promise<Health> {
  const started = performance.now();
  const databaseUp = await databaseAnswers();
  const latencyMs = databaseUp ? Math.round((performance.now() - started) * 100) / 100 : null;
  const [cacheUp, chain] = await Promise.all([pingCache(), databaseUp ? getChainStatus() : null]);
  return {
    status: !databaseUp ? "down" : cacheUp && chain?.status === "up" ? "ok" : "degraded",
    database: {
      status: databaseUp ? "up" : "down",
      engine: env.database.embedded ? "embedded-pglite" : "postgresql",
      latencyMs,
    },
    cache: { status: cacheUp ? "up" : "down", kind: cacheKind() },
    chain,
  };
}
