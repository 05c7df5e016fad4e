import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate, readMigrations } from "@/lib/db/migrate";
import { freshDatabase } from "@/tests/support/fresh-database";
import type { ScratchDatabase } from "@/tests/support/scratch-database";

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("migration runner", () => {
  let database: ScratchDatabase;
  let copy: string;

  beforeAll(async () => {
    database = await freshDatabase();
    copy = mkdtempSync(path.join(tmpdir(), "gl-migrations-"));
    cpSync("prisma/migrations", copy, { recursive: true });
  });
  afterAll(async () => {
    await database.drop();
    rmSync(copy, { recursive: true, force: true });
  });

  it("applies every migration once and records Prisma's history", async () => {
    const migrations = await readMigrations();
    expect(await migrate(database.url)).toEqual(migrations.map((migration) => migration.name));
    expect(await migrate(database.url)).toEqual([]);
    const history = await query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      applied_steps_count: number;
    }>(
      database.url,
      `SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(history.map((row) => row.migration_name)).toEqual(migrations.map((migration) => migration.name));
    for (const [index, row] of history.entries()) {
      const sql = migrations[index]?.sql ?? "";
      expect(row.checksum).toBe(createHash("sha256").update(sql).digest("hex"));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it("refuses to start when an applied migration was edited", async () => {
    const [first] = await readMigrations(copy);
    writeFileSync(path.join(copy, first?.name ?? "", "migration.sql"), `${first?.sql}\n-- edited`);
    await expect(migrate(database.url, copy)).rejects.toThrow(/was edited after it was applied/);
  });

  it("rolls back a failing migration whole and leaves no history row", async () => {
    const name = "29990101000000_broken";
    cpSync("prisma/migrations", copy, { recursive: true });
    mkdirSync(path.join(copy, name));
    writeFileSync(
      path.join(copy, name, "migration.sql"),
      "CREATE TABLE half_done (id int);\nSELECT no_such_function();",
    );
    await expect(migrate(database.url, copy)).rejects.toThrow(/29990101000000_broken failed/);
    const tables = await query(database.url, "SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'");
    expect(tables).toHaveLength(0);
    const rows = await query(database.url, `SELECT 1 FROM "_prisma_migrations" WHERE migration_name = '${name}'`);
    expect(rows).toHaveLength(0);
  });
});
