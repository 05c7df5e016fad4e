import { startEmbeddedPostgres } from "@/lib/db/embedded/start-embedded-postgres";
import { createScratchDatabase, type ScratchDatabase } from "@/tests/support/scratch-database";

/** An empty database on the engine this run uses (real PostgreSQL with TEST_DATABASE_URL, else PGlite). */
export async function freshDatabase(): Promise<ScratchDatabase> {
  if (process.env.TEST_DATABASE_URL) return createScratchDatabase(process.env.TEST_DATABASE_URL);
  const embedded = await startEmbeddedPostgres({ dataDir: "memory://", port: 0 });
  return { url: embedded.url, drop: embedded.stop };
}
