import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeMyBatchesCursor, myBatchesQuery } from "@/lib/batches/list-my-batches";
import { type SearchInput, searchSchema } from "@/lib/batches/schema";
import { searchQuery } from "@/lib/batches/search-batches";
import { encodeCursor } from "@/lib/batches/search-cursor";
import { db } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";
import { Prisma } from "@/lib/generated/prisma/client";
import { nearbyQuery } from "@/lib/transporters/find-nearby";

const BATCHES = 300_000;

type PlanNode = {
  "Node Type": string;
  "Index Name"?: string;
  "Index Cond"?: string;
  "Relation Name"?: string;
  Plans?: PlanNode[];
};

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

async function plan(query: Prisma.Sql): Promise<PlanNode[]> {
  const rows = await db.$queryRaw<{ "QUERY PLAN": [{ Plan: PlanNode }] }[]>(Prisma.sql`EXPLAIN (FORMAT JSON) ${query}`);
  return nodes(rows[0]?.["QUERY PLAN"][0].Plan as PlanNode);
}

// Bitmap index scans name no relation in the plan; index names are unique across the schema anyway.
function indexesUsed(planNodes: PlanNode[]): string[] {
  return planNodes.flatMap((node) => (node["Index Name"] ? [node["Index Name"]] : []));
}

function seqScans(planNodes: PlanNode[], table: string): number {
  return planNodes.filter((node) => node["Node Type"] === "Seq Scan" && node["Relation Name"] === table).length;
}

function sortsBelowLimit(planNodes: PlanNode[]): number {
  return planNodes
    .filter((node) => node["Node Type"] === "Limit")
    .flatMap(nodes)
    .filter((node) => node["Node Type"] === "Sort").length;
}

const search = (input: Partial<SearchInput>) => searchQuery(searchSchema.parse(input));

// Plans depend on row counts and statistics: this runs on real PostgreSQL with a realistic table only.
describe(`query plans on PostgreSQL with ${BATCHES.toLocaleString("en")} batches`, () => {
  beforeAll(async () => {
    if (!process.env.TEST_DATABASE_URL) throw new Error("The postgres project needs TEST_DATABASE_URL");
    const seed = new pg.Client({ connectionString: env.database.url });
    await seed.connect();
    await seed.query(`
      INSERT INTO farms (name, region, country, latitude, longitude, owner_address)
      SELECT 'Plan Farm ' || g, 'Region ' || (g % 20), 'NL', 52, 4, '0x' || lpad(to_hex(g), 40, '0')
      FROM generate_series(1, 200) g`);
    await seed.query(`
      INSERT INTO crop_batches (client_id, crop_type, variety, quantity, unit, harvest_date, origin_farm, quality_score,
                                metadata, current_state, owner_address, content_hash, search_text)
      SELECT gen_random_uuid(),
             (ARRAY['tomato','potato','wheat','maize','apple','grape','strawberry','lettuce','coffee','rice','olive',
                    'avocado','carrot','onion'])[1 + g % 14],
             'variety ' || (g % 7), 1 + g % 1000, 'KGM', current_date - (g % 1460),
             (SELECT min(id) FROM farms) + g % 200, g % 101,
             CASE WHEN g % 9973 = 0 THEN '{"certifications":["Demeter"]}'::jsonb
                  WHEN g % 3 = 0 THEN '{"certifications":["GlobalG.A.P."]}'::jsonb ELSE '{}'::jsonb END,
             g % 6, '0x' || lpad(to_hex(g % 5000), 40, '0'), repeat('0', 64),
             CASE WHEN g % 1999 = 0 THEN 'heirloom zebra ' ELSE '' END || 'crop variety ' || (g % 7) || ' plan farm ' || (g % 200)
      FROM generate_series(1, ${BATCHES}) g`);
    await seed.query(`
      INSERT INTO transporters (address, name, status, latitude, longitude)
      SELECT '0xa' || lpad(to_hex(g), 39, '0'), 'T' || g,
             (ARRAY['available','busy','offline'])[1 + g % 3]::"TransporterStatus",
             -60 + (g::bigint * 7919 % 12000) / 100.0, -170 + (g::bigint * 104729 % 34000) / 100.0
      FROM generate_series(1, 50000) g`);
    // As autovacuum leaves a table once it has caught up: the visibility map set, so index-only scans are planned.
    await seed.query("VACUUM ANALYZE crop_batches, farms, transporters");
    await seed.end();
  }, 120_000);

  it("serves the marketplace's active-batch filter from the partial index or the covering index", async () => {
    const used = await plan(search({ cropType: "tomato", states: [0, 1, 2], limit: 20 }));
    expect(
      indexesUsed(used).some((name) =>
        ["crop_batches_active_idx", "crop_batches_crop_harvest_covering_idx"].includes(name),
      ),
    ).toBe(true);
    expect(seqScans(used, "crop_batches")).toBe(0);
  });

  it("serves a crop-type page from the covering index, first page and a deep cursor page alike", async () => {
    const first = await plan(search({ cropType: "potato", limit: 20 }));
    const deep = await plan(
      search({ cropType: "potato", limit: 20, cursor: encodeCursor("newest", "2023-06-01", 150_000) }),
    );
    expect(indexesUsed(first)).toContain("crop_batches_crop_harvest_covering_idx");
    expect(indexesUsed(deep)).toContain("crop_batches_crop_harvest_covering_idx");
    expect(seqScans(deep, "crop_batches")).toBe(0);
  });

  it.each([
    ["newest", "2024-01-01", "crop_batches_harvest_idx"],
    ["oldest", "2024-01-01", "crop_batches_harvest_idx"],
    ["quality", 50, "crop_batches_quality_idx"],
    ["quantity", "500.000", "crop_batches_quantity_idx"],
  ] as const)(
    "sorts by %s from its index, for sale on the first page and unfiltered at a deep cursor",
    async (sort, key, index) => {
      const first = await plan(search({ sort, states: [0, 1, 2], limit: 30 }));
      const deep = await plan(search({ sort, limit: 30, cursor: encodeCursor(sort, key, 200_000) }));
      for (const used of [first, deep]) {
        expect(indexesUsed(used)).toContain(index);
        expect(seqScans(used, "crop_batches")).toBe(0);
        // Only the page found is sorted again (after its rows are read); the walk itself needs no sort.
        expect(sortsBelowLimit(used)).toBe(0);
      }
      // The whole cursor, token id included, bounds the scan: rows sharing the cursor's key are not read and dropped.
      const scan = deep.find((node) => node["Index Name"] === index);
      expect(scan?.["Index Cond"]).toMatch(/token_id/);
    },
  );

  it("finds a page of four filters together by walking the covering index alone, not the table", async () => {
    const used = await plan(
      search({ cropType: "potato", certification: "GlobalG.A.P.", minQuality: 90, region: "Region 7", limit: 20 }),
    );
    const walk = used.find((node) => node["Index Name"] === "crop_batches_crop_harvest_covering_idx");
    expect(walk?.["Node Type"]).toBe("Index Only Scan");
    expect(sortsBelowLimit(used)).toBe(0);
  });

  it("lists an owner's batches from the owner index, first page and a cursor page alike", async () => {
    const owner = `0x${(1234).toString(16).padStart(40, "0")}`;
    const first = await plan(myBatchesQuery(owner, { limit: 20 }));
    const later = await plan(
      myBatchesQuery(owner, { limit: 20, cursor: encodeMyBatchesCursor(new Date().toISOString(), 150_000) }),
    );
    expect(indexesUsed(first)).toContain("crop_batches_owner_idx");
    expect(indexesUsed(later)).toContain("crop_batches_owner_idx");
    expect(seqScans(later, "crop_batches")).toBe(0);
  });

  it("finds a rare certification through the GIN jsonb_path_ops index", async () => {
    const used = await plan(search({ certification: "Demeter", limit: 20 }));
    expect(indexesUsed(used)).toContain("crop_batches_metadata_idx");
  });

  it("matches free text through the trigram index", async () => {
    const used = await plan(search({ q: "heirloom zebra", limit: 20 }));
    expect(indexesUsed(used)).toContain("crop_batches_search_text_idx");
  });

  it("finds available transporters near a point through the GiST earthdistance index", async () => {
    const used = await plan(nearbyQuery({ lat: 10, lng: 10, radiusKm: 50 }));
    expect(indexesUsed(used)).toContain("transporters_available_earth_idx");
    expect(seqScans(used, "transporters")).toBe(0);
  });
});
