import { cacheKind, pingCache } from "@/lib/cache/tiered-cache";
import { dbRead } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";

export type Health = {
  status: "ok" | "degraded" | "down";
  database: { status: "up" | "down"; engine: "embedded-pglite" | "postgresql"; latencyMs: number | null };
  cache: { status: "up" | "down"; kind: "memory" | "redis" };
  chain: { status: "not_configured" };
};

export async function getHealth(): Promise<Health> {
  const started = performance.now();
  const databaseUp = await dbRead.$queryRaw`SELECT 1`.then(
    () => true,
    () => false,
  );
  const latencyMs = databaseUp ? Math.round((performance.now() - started) * 100) / 100 : null;
  const cacheUp = await pingCache();
  return {
    status: !databaseUp ? "down" : cacheUp ? "ok" : "degraded",
    database: {
      status: databaseUp ? "up" : "down",
      engine: env.database.embedded ? "embedded-pglite" : "postgresql",
      latencyMs,
    },
    cache: { status: cacheUp ? "up" : "down", kind: cacheKind() },
    chain: { status: "not_configured" },
  };
}
