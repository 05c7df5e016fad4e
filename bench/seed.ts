import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { hexAddress, pick, seededRandom, weighted, zipf } from "@/bench/random";
import { contentHash } from "@/lib/batches/content-hash";
import { IN_TRANSIT } from "@/lib/batches/lifecycle";
import { migrate } from "@/lib/db/migrate";

/** The embedded chain's id: the seeded on-chain projection must be the one the server reads. */
export const BENCH_CHAIN_ID = 31337;
const SEED = 20261124;
const FARMS = 2_000;
const BUYERS = 5_000;
const TRANSPORTERS = 300;
const ROWS_PER_CHUNK = 2_000;

const REGIONS = [
  ["Andalusia", "ES", 37.5, -4.7],
  ["Emilia-Romagna", "IT", 44.5, 11.0],
  ["Provence", "FR", 43.9, 5.5],
  ["Westland", "NL", 52.0, 4.2],
  ["Central Valley", "US", 36.7, -119.7],
  ["Central Highlands", "KE", -0.4, 36.9],
  ["Punjab", "IN", 30.9, 75.8],
  ["Mendoza", "AR", -32.9, -68.8],
  ["Bavaria", "DE", 48.8, 11.5],
  ["Plovdiv", "BG", 42.15, 24.75],
] as const;

// Weighted like a produce market: staples far more often than coffee or avocado.
const CROPS: readonly (readonly [string, number, readonly string[]])[] = [
  ["tomato", 14, ["Roma", "San Marzano", "Cherry", "Beefsteak"]],
  ["potato", 13, ["Russet", "Yukon Gold", "Kennebec"]],
  ["wheat", 12, ["Durum", "Hard Red Winter", "Soft White"]],
  ["maize", 10, ["Dent", "Sweet"]],
  ["apple", 9, ["Gala", "Fuji", "Granny Smith", "Honeycrisp"]],
  ["rice", 8, ["Basmati", "Arborio"]],
  ["lettuce", 7, ["Romaine", "Butterhead", "Iceberg"]],
  ["grape", 6, ["Tempranillo", "Malbec", "Thompson Seedless"]],
  ["onion", 6, ["Yellow Granex", "Red Creole"]],
  ["carrot", 5, ["Nantes", "Chantenay"]],
  ["strawberry", 4, ["Albion", "Elsanta"]],
  ["olive", 3, ["Picual", "Arbequina"]],
  ["coffee", 2, ["Arabica SL28", "Arabica Ruiru 11"]],
  ["avocado", 1, ["Hass", "Fuerte"]],
];
export const CERTIFICATIONS = [
  "GlobalG.A.P.",
  "EU Organic",
  "Fairtrade",
  "Rainforest Alliance",
  "USDA Organic",
  "Demeter",
];
const CERTIFICATION_WEIGHTS = [0.35, 0.2, 0.12, 0.08, 0.06, 0.02];
const GRADES = [
  ["Extra", 2],
  ["Class I", 5],
  ["Class II", 3],
] as const;
const STATES = [
  [0, 40],
  [1, 20],
  [2, 20],
  [3, 12],
  [4, 5],
  [5, 3],
] as const;
const UNITS = [
  ["KGM", 85],
  ["TNE", 10],
  ["LBR", 5],
] as const;

const DAY_MS = 86_400_000;
const SPAN_DAYS = 3 * 365;

export type SeedReport = { batches: number; events: number; farms: number; seconds: number };

function sql(client: pg.Client, text: string, values?: unknown[]) {
  return client.query(text, values);
}

type SeedFarm = { name: string; region: string; owner: string };

async function seedFarms(client: pg.Client, random: () => number): Promise<SeedFarm[]> {
  const farms = Array.from({ length: FARMS }, (_, index) => {
    const [region, country, lat, lng] = REGIONS[index % REGIONS.length] as (typeof REGIONS)[number];
    const name = `${pick(["North", "South", "Old", "Green", "Sun", "River", "Hill", "Oak"], random)} ${pick(["Farm", "Orchards", "Growers", "Fields", "Estate"], random)} ${index + 1}`;
    return {
      name,
      region,
      country,
      lat: lat + (random() - 0.5) * 1.2,
      lng: lng + (random() - 0.5) * 1.2,
      owner: hexAddress(random),
    };
  });
  await sql(
    client,
    `INSERT INTO farms (id, name, region, country, latitude, longitude, owner_address)
     SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::text[])`,
    [
      farms.map((_, index) => index + 1),
      farms.map((farm) => farm.name),
      farms.map((farm) => farm.region),
      farms.map((farm) => farm.country),
      farms.map((farm) => farm.lat),
      farms.map((farm) => farm.lng),
      farms.map((farm) => farm.owner),
    ],
  );
  await sql(client, `SELECT setval(pg_get_serial_sequence('farms', 'id'), $1)`, [FARMS]);
  return farms;
}

function* batchRows(count: number, farms: SeedFarm[], random: () => number) {
  const farmRank = zipf(farms.length, 0.8, random);
  const buyers = Array.from({ length: BUYERS }, () => hexAddress(random));
  const transporters = Array.from({ length: TRANSPORTERS }, () => hexAddress(random));
  const cropChoices = CROPS.map(([crop, weight, varieties]) => [[crop, varieties] as const, weight] as const);
  const now = Date.now();
  let chunk = "";
  for (let tokenId = 1; tokenId <= count; tokenId += 1) {
    const farmId = farmRank() + 1;
    const farm = farms[farmId - 1] as SeedFarm;
    const [cropType, varieties] = weighted(cropChoices, random);
    const variety = pick(varieties, random);
    const harvest = now - Math.floor(random() * SPAN_DAYS) * DAY_MS;
    const createdAt = Math.min(now - 60_000, harvest + Math.floor(random() * 3 * DAY_MS));
    const certifications = CERTIFICATIONS.filter((_, index) => random() < (CERTIFICATION_WEIGHTS[index] ?? 0));
    const metadata = {
      ...(certifications.length ? { certifications } : {}),
      grade: weighted(GRADES, random),
      organic: certifications.some((name) => name.includes("Organic")),
    };
    const state = weighted(STATES, random);
    const unit = weighted(UNITS, random);
    const quality = Math.max(0, Math.min(100, Math.round(78 + (random() + random() + random() - 1.5) * 24)));
    const record = {
      clientId: randomUUID(),
      cropType,
      variety,
      quantity: (unit === "TNE" ? 1 + random() * 40 : 20 + random() * 20_000).toFixed(3),
      unit,
      harvestDate: new Date(harvest).toISOString().slice(0, 10),
      farmId,
      qualityScore: quality,
      metadata,
    };
    const owner = state === 3 || state === 4 ? pick(buyers, random) : farm.owner;
    const custodian = state === 1 ? pick(transporters, random) : "\\N";
    const created = new Date(createdAt).toISOString();
    const searchText = `${cropType} ${variety} ${farm.name} ${farm.region}`.toLowerCase();
    chunk += `${tokenId}\t${record.clientId}\t${cropType}\t${variety}\t${record.quantity}\t${unit}\t${record.harvestDate}\t${farmId}\t${quality}\t${JSON.stringify(metadata)}\t${state}\t${owner}\t${custodian}\t${contentHash(record)}\tfinal\t${searchText}\t${created}\t${created}\n`;
    if (tokenId % ROWS_PER_CHUNK === 0) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk) yield chunk;
}

// Indexes are built once after the load: maintaining a trigram GIN row by row costs several times more.
async function dropSecondaryIndexes(client: pg.Client, tables: string[]): Promise<string[]> {
  const { rows } = await sql(
    client,
    `SELECT i.indexname, i.indexdef FROM pg_indexes i
     WHERE i.schemaname = 'public' AND i.tablename = ANY($1)
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    [tables],
  );
  for (const row of rows) await sql(client, `DROP INDEX "${row.indexname}"`);
  return rows.map((row) => row.indexdef as string);
}

const EVENT_STEPS = `(VALUES
  (0, 0, 'ObjectEvent', 'ADD', 'commissioning', 'active', NULL::int, 0),
  (1, 1, 'ObjectEvent', 'OBSERVE', 'shipping', 'in_transit', 0, 1),
  (2, 2, 'ObjectEvent', 'OBSERVE', 'receiving', 'sellable_accessible', 1, 2),
  (3, 3, 'TransactionEvent', 'ADD', 'retail_selling', 'retail_sold', 2, 3),
  (4, 4, 'ObjectEvent', 'DELETE', 'decommissioning', 'inactive', 3, 4),
  (5, 2, 'ObjectEvent', 'OBSERVE', 'holding', 'recalled', 1, 5)
) AS s(kind, step, event_type, action, biz_step, disposition, from_state, to_state)`;

// The EPCIS history each state implies (a recall follows a shipment), written by the database itself.
const INSERT_EVENTS = `
INSERT INTO batch_events (token_id, event_id, event_type, action, biz_step, disposition, event_time,
  event_time_zone_offset, read_point, actor_address, from_state, to_state, payload, event_hash)
SELECT b.token_id, 'ni:///sha-256;' || h.hash, s.event_type, s.action, s.biz_step, s.disposition, t.at, '+00:00',
  CASE WHEN s.biz_step IN ('shipping', 'receiving')
    THEN 'geo:' || round((f.latitude + s.step * 0.3)::numeric, 6) || ',' || round((f.longitude + s.step * 0.3)::numeric, 6) END,
  CASE WHEN s.to_state = 4 THEN b.owner_address ELSE f.owner_address END, s.from_state, s.to_state,
  jsonb_build_object('type', s.event_type, 'action', s.action, 'eventTime', t.at, 'eventTimeZoneOffset', '+00:00',
    'bizStep', s.biz_step, 'disposition', s.disposition, 'epcList', jsonb_build_array('urn:greenledger:batch:' || b.token_id),
    'gl:actor', f.owner_address) || CASE WHEN s.to_state = 5 THEN '{"gl:reason": "Pesticide residue above limit"}'::jsonb ELSE '{}'::jsonb END,
  h.hash
FROM crop_batches b
JOIN farms f ON f.id = b.origin_farm
JOIN ${EVENT_STEPS} ON s.kind = 0
  OR (b.current_state BETWEEN 1 AND 4 AND s.kind BETWEEN 1 AND b.current_state)
  OR (b.current_state = 5 AND s.kind IN (1, 5))
CROSS JOIN LATERAL (SELECT b.created_at + s.step * interval '9 hours' AS at) t
CROSS JOIN LATERAL (SELECT encode(sha256(convert_to(b.client_id::text || ':' || s.kind, 'UTF8')), 'hex') AS hash) h
WHERE b.token_id BETWEEN $1 AND $2`;

// The indexer's projection as it would be after minting and replaying every batch on chain: verification agrees.
const INSERT_TOKENS = `
INSERT INTO chain_tokens (chain_id, token_id, owner_address, state, content_hash, mint_tx_hash, mint_block, updated_block)
SELECT ${BENCH_CHAIN_ID}, token_id, owner_address, current_state, content_hash,
  '0x' || encode(sha256(convert_to('mint:' || ((token_id - 1) / 100), 'UTF8')), 'hex'),
  1 + (token_id - 1) / 100, 1 + (token_id - 1) / 100 + current_state
FROM crop_batches WHERE token_id BETWEEN $1 AND $2`;

async function inSlices(client: pg.Client, text: string, count: number): Promise<number> {
  const slice = 250_000;
  let inserted = 0;
  for (let low = 1; low <= count; low += slice) {
    const result = await sql(client, text, [low, Math.min(count, low + slice - 1)]);
    inserted += result.rowCount ?? 0;
  }
  return inserted;
}

/** Scans per token for the hot set, falling with popularity rank: what a cache warmer would learn from. */
async function seedScans(client: pg.Client, hotTokens: number[]): Promise<void> {
  await sql(
    client,
    `INSERT INTO verification_scans (token_id, scan_count, last_scanned_at)
     SELECT token, (1000000 / rank ^ 1.1)::bigint + 1, now() - rank * interval '1 second'
     FROM unnest($1::bigint[]) WITH ORDINALITY AS u(token, rank)`,
    [hotTokens],
  );
}

/** Migrations, then farms, batches (COPY), their EPCIS events, the on-chain projection and scan counts. */
export async function seedDatabase(url: string, batches: number, hotTokens: number[]): Promise<SeedReport> {
  const started = performance.now();
  await migrate(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await sql(client, "SET maintenance_work_mem = '256MB'");
    await sql(client, "SET synchronous_commit = off");
    const random = seededRandom(SEED);
    const farms = await seedFarms(client, random);
    const indexes = await dropSecondaryIndexes(client, ["crop_batches", "batch_events", "chain_tokens"]);
    const copy = client.query(
      copyFrom(
        `COPY crop_batches (token_id, client_id, crop_type, variety, quantity, unit, harvest_date, origin_farm,
          quality_score, metadata, current_state, owner_address, custodian_address, content_hash, chain_status,
          search_text, created_at, updated_at) FROM STDIN`,
      ),
    );
    await pipeline(Readable.from(batchRows(batches, farms, random)), copy);
    await sql(client, `SELECT setval(pg_get_serial_sequence('crop_batches', 'token_id'), $1)`, [batches]);
    const events = await inSlices(client, INSERT_EVENTS, batches);
    await inSlices(client, INSERT_TOKENS, batches);
    for (const definition of indexes) await sql(client, definition);
    await seedScans(client, hotTokens);
    await sql(client, "SELECT refresh_crop_analytics_hourly('-infinity'::timestamptz)");
    return { batches, events, farms: FARMS, seconds: (performance.now() - started) / 1000 };
  } finally {
    await client.end();
  }
}

export type Shipment = { tokenId: number; owner: string; transporter: string };

/**
 * `count` batches in transit, each with a farmer of its own as owner and a transporter of its own carrying it: the
 * journeys the live tracking bench and tests watch. Settled on chain, so no worker picks them up.
 */
export async function seedShipments(url: string, count: number): Promise<Shipment[]> {
  await migrate(url);
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  try {
    const run = randomUUID().replaceAll("-", "").slice(0, 8);
    const { rows } = await sql.query<{ token_id: string; owner: string; transporter: string }>(
      `WITH series AS (
         SELECT i, '0x' || $2 || lpad(to_hex(i), 24, '0') || 'f0000000' AS owner,
                '0x' || $2 || lpad(to_hex(i), 24, '0') || '7a000000' AS transporter
         FROM generate_series(1, $1::int) AS i
       ), people AS (
         INSERT INTO users (address, role)
         SELECT owner, 'farmer'::"Role" FROM series UNION ALL SELECT transporter, 'transporter'::"Role" FROM series
       ), farm AS (
         INSERT INTO farms (name, region, country, latitude, longitude, owner_address)
         SELECT 'Shipping Farm ' || i, 'Westland', 'NL', 52.0, 4.2, owner FROM series
         RETURNING id, owner_address
       )
       INSERT INTO crop_batches (client_id, crop_type, quantity, unit, harvest_date, origin_farm, quality_score,
                                 current_state, owner_address, custodian_address, content_hash, chain_status,
                                 search_text)
       SELECT gen_random_uuid(), 'tomato', 1000, 'kg', current_date, farm.id, 80, $3,
              series.owner, series.transporter, repeat('0', 64), 'final', 'tomato'
       FROM series JOIN farm ON farm.owner_address = series.owner
       RETURNING token_id, owner_address AS owner, custodian_address AS transporter`,
      [count, run, IN_TRANSIT],
    );
    return rows
      .map((row) => ({ tokenId: Number(row.token_id), owner: row.owner, transporter: row.transporter }))
      .sort((a, b) => a.tokenId - b.tokenId);
  } finally {
    await sql.end();
  }
}
