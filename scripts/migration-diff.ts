import { readFile } from "node:fs/promises";
import { migrate } from "@/lib/db/migrate";
import { migrationDrift } from "@/prisma/schema-engine";
import { createScratchDatabase } from "@/tests/support/scratch-database";

// Prints the SQL a new prisma/migrations/<timestamp>_<name>/migration.sql needs to match schema.prisma.
const adminUrl = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const schema = await readFile(new URL("../prisma/schema.prisma", import.meta.url), "utf8");
const db = await createScratchDatabase(adminUrl, "diff");
try {
  await migrate(db.url);
  const statements = await migrationDrift(db.url, schema);
  if (statements.length > 0) console.log(statements.join("\n\n"));
  else console.error("-- prisma/migrations already match schema.prisma");
} finally {
  await db.drop();
}
