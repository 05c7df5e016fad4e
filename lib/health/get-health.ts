import { cacheKind, pingCache } from "@/lib/cache/tiered-cache";
import { type ChainStatus, getChainStatus } from "@/lib/chain/chain-status";
import { dbRead } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";

export type Health = {
  status: "ok" | "degraded" | "down";
  database: { status: "up" | "down"; engine: "embedded-pglite" | "postgresql"; latencyMs: number | null };
  cache: { status: "up" | "down"; kind: "memory" | "redis" };
  chain: ChainStatus;
};

export async function getHealth(): Promise<Health> {
  const started = performance.now();
  const databaseUp = await dbRead.$queryRaw`SELECT 1`.then(
    () => true,
    () => false,
  );
  const latencyMs = databaseUp ? Math.round((performance.now() - started) * 100) / 100 : null;
  const [cacheUp, chain] = await Promise.all([pingCache(), getChainStatus()]);
  return {
    status: !databaseUp ? "down" : cacheUp && chain.status === "up" ? "ok" : "degraded",
    database: {
      status: databaseUp ? "up" : "down",
      engine: env.database.embedded ? "embedded-pglite" : "postgresql",
      latencyMs,
    },
    cache: { status: cacheUp ? "up" : "down", kind: cacheKind() },
    chain,
  };
}
