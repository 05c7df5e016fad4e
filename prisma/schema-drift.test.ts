import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgCluster } from "@/deploy/local/pg-cluster";
import { migrate } from "@/lib/db/migrate";
import { createScratchDatabase } from "@/tests/support/scratch-database";
import { executeSql, migrationDrift } from "./schema-engine";

// Without TEST_DATABASE_URL, a cluster of its own: never whatever happens to listen on PostgreSQL's default port.
async function adminUrl(): Promise<string> {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  const cluster = pgCluster();
  afterAll(() => cluster.destroy());
  return (await cluster.start()).url;
}

const ADMIN_URL = await adminUrl();
const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations", import.meta.url));
const schema = await readFile(new URL("./schema.prisma", import.meta.url), "utf8");

async function migratedDatabase(extraMigration?: string) {
  const db = await createScratchDatabase(ADMIN_URL, "drift");
  try {
    await migrate(db.url, MIGRATIONS_DIR);
    if (extraMigration) await executeSql(db.url, extraMigration);
    return db;
  } catch (error) {
    await db.drop();
    throw error;
  }
}

describe("schema.prisma vs prisma/migrations", () => {
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  beforeAll(async () => {
    db = await migratedDatabase();
  });
  afterAll(() => db?.drop());

  it("are in sync", async () => {
    expect(await migrationDrift(db.url, schema)).toEqual([]);
  });

  it.each([
    [
      "a new field",
      "  batches      CropBatch[]",
      "  batches      CropBatch[]\n  foo          String?",
      /ADD COLUMN\s+"foo" TEXT/,
    ],
    [
      "a changed type",
      "region       String      @db.VarChar(120)",
      "region       String      @db.VarChar(200)",
      /"region" SET DATA TYPE VARCHAR\(200\)/,
    ],
    ["a changed nullability", "variety          String?", "variety          String ", /"variety" SET NOT NULL/],
    ["a changed default", "@default(offline)", "@default(available)", /"status" SET DEFAULT 'available'/],
    [
      "a removed index",
      '  @@index([ownerAddress])\n  @@map("farms")',
      '  @@map("farms")',
      /DROP INDEX "farms_owner_address_idx"/,
    ],
    [
      "a removed unique",
      "eventId             String    @unique",
      "eventId             String",
      /DROP INDEX "batch_events_event_id_key"/,
    ],
    [
      "a changed foreign key",
      "references: [id])",
      "references: [id], onDelete: Cascade)",
      /"crop_batches_origin_farm_fkey" .* ON DELETE CASCADE/,
    ],
    ["a new enum value", "  admin\n}", "  admin\n  auditor\n}", /ADD VALUE 'auditor'/],
    ["a new model", "enum Role {", "model Extra {\n  id Int @id\n}\n\nenum Role {", /CREATE TABLE "Extra"/],
    [
      "a changed covering index",
      "[cropType, harvestDate(sort: Desc), tokenId(sort: Desc)], map",
      "[cropType], map",
      /^DROP INDEX "crop_batches_crop_harvest_covering_idx";\nCREATE INDEX .*\("crop_type"\);$/,
    ],
    ["a changed partial index", "ARRAY[0, 1, 2]", "ARRAY[0, 1]", /WHERE \(current_state = ANY \(ARRAY\[0, 1\]\)\)/],
  ])("report drift when schema.prisma has %s", async (_, from, to, expected) => {
    expect(schema).toContain(from);
    expect((await migrationDrift(db.url, schema.replace(from, to))).join("\n")).toMatch(expected);
  });

  it.each([
    ["a new column", `ALTER TABLE "farms" ADD COLUMN "bar" INTEGER`, /DROP COLUMN "bar"/],
    [
      "a new enum value",
      `ALTER TYPE "Role" ADD VALUE 'auditor'`,
      /CREATE TYPE "Role_new" AS ENUM \('farmer', 'transporter', 'inspector', 'buyer', 'admin'\)/,
    ],
    [
      "a changed covering index",
      `DROP INDEX "crop_batches_crop_harvest_covering_idx";
       CREATE INDEX "crop_batches_crop_harvest_covering_idx" ON "crop_batches"("crop_type") INCLUDE ("token_id")`,
      /^DROP INDEX "crop_batches_crop_harvest_covering_idx";\nCREATE INDEX .*\("crop_type", "harvest_date" DESC, "token_id" DESC\);$/,
    ],
  ])("report drift when a migration has %s", async (_, extraMigration, expected) => {
    const other = await migratedDatabase(extraMigration);
    try {
      expect((await migrationDrift(other.url, schema)).join("\n")).toMatch(expected);
    } finally {
      await other.drop();
    }
  });
});
