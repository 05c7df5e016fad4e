import "server-only";
import { z } from "zod";
import { badRequest } from "@/lib/api/errors";
import { fileUrl } from "@/lib/attachments/attachment-dto";
import { checksum } from "@/lib/batches/batch-dto";
import { type StateName, stateName } from "@/lib/batches/lifecycle";
import { isoDateSchema, type SearchInput } from "@/lib/batches/schema";
import { encodeCursor, type SortKey } from "@/lib/batches/search-cursor";
import { SEARCH_SORTS, type SearchSort } from "@/lib/batches/sorts";
import { pools } from "@/lib/db/client";
import { Prisma } from "@/lib/generated/prisma/client";

export type BatchSummary = {
  tokenId: number;
  cropType: string;
  variety: string | null;
  quantity: number;
  unit: string;
  harvestDate: string;
  qualityScore: number;
  state: number;
  stateName: StateName;
  certifications: string[];
  ownerAddress: string;
  chainStatus: string;
  farm: { id: number; name: string; region: string; country: string };
  /** The first photo's icon (96 px square), when the batch has one. */
  thumbnailUrl: string | null;
  validCertificate: boolean;
};

export type SearchResult = { results: BatchSummary[]; nextCursor: string | null };

// Read with pg, not Prisma (a third of the cost per query here): the SQL hands over bigint, numeric and date as
// exact text, so nothing depends on the server's time zone or on float rounding.
type Row = {
  token_id: string;
  crop_type: string;
  variety: string | null;
  quantity: string;
  unit: string;
  harvest_date: string;
  quality_score: number;
  current_state: number;
  certifications: unknown;
  owner_address: string;
  chain_status: string;
  farm_id: number;
  farm_name: string;
  farm_region: string;
  farm_country: string;
  icon_sha256: string | null;
  valid_certificate: boolean;
};

type SortSpec = {
  column: Prisma.Sql;
  descending: boolean;
  /** The cursor's key: a value of `column` as the row carried it, validated when it comes back. */
  key: (row: Row) => SortKey;
  keySchema: z.ZodType<SortKey>;
  cast: Prisma.Sql;
};

const DECIMAL_14_3 = /^\d{1,11}(\.\d{1,3})?$/;

function byHarvest(descending: boolean): SortSpec {
  return {
    column: Prisma.sql`b.harvest_date`,
    descending,
    key: (row) => row.harvest_date,
    keySchema: isoDateSchema,
    cast: Prisma.sql`date`,
  };
}

// Each order is served by an index on (column, token_id), scanned forwards or backwards.
const SORTS: Record<SearchSort, SortSpec> = {
  newest: byHarvest(true),
  oldest: byHarvest(false),
  quality: {
    column: Prisma.sql`b.quality_score`,
    descending: true,
    key: (row) => row.quality_score,
    keySchema: z.number().int().min(0).max(100),
    cast: Prisma.sql`smallint`,
  },
  quantity: {
    column: Prisma.sql`b.quantity`,
    descending: true,
    // As a string: the cursor must hold the exact decimal, not a float near it.
    key: (row) => row.quantity,
    keySchema: z.string().regex(DECIMAL_14_3),
    cast: Prisma.sql`numeric`,
  },
};

const cursorSchema = z.tuple([
  z.enum(SEARCH_SORTS),
  z.union([z.string().max(40), z.number()]),
  z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
]);

const invalidCursor = () =>
  badRequest("The cursor is not one this API gave out.", [{ path: "cursor", message: "Invalid cursor" }]);

function decodeCursor(cursor: string, sort: SearchSort): [SortKey, number] {
  let decoded: z.infer<typeof cursorSchema>;
  try {
    decoded = cursorSchema.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    throw invalidCursor();
  }
  const [cursorSort, key, tokenId] = decoded;
  if (cursorSort !== sort) {
    throw badRequest("The cursor belongs to another sort order; start again from the first page.", [
      { path: "cursor", message: `Cursor is for sort "${cursorSort}"` },
    ]);
  }
  const parsedKey = SORTS[sort].keySchema.safeParse(key);
  if (!parsedKey.success) throw invalidCursor();
  return [parsedKey.data, tokenId];
}

/**
 * Rows after the cursor as one row comparison, which the index scan starts at exactly: a deep page costs what the
 * first does, even when the cursor falls in the middle of many rows with the same key.
 */
function afterCursor(spec: SortSpec, key: SortKey, tokenId: number): Prisma.Sql {
  const value = Prisma.sql`${key}::${spec.cast}`;
  return spec.descending
    ? Prisma.sql`(${spec.column}, b.token_id) < (${value}, ${tokenId}::bigint)`
    : Prisma.sql`(${spec.column}, b.token_id) > (${value}, ${tokenId}::bigint)`;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

function filters(input: SearchInput): Prisma.Sql[] {
  const where: Prisma.Sql[] = [];
  const cropTypes = [...(input.cropType ? [input.cropType] : []), ...(input.cropTypes ?? [])].map((c) =>
    c.toLowerCase(),
  );
  if (cropTypes.length === 1) where.push(Prisma.sql`b.crop_type = ${cropTypes[0]}`);
  if (cropTypes.length > 1) where.push(Prisma.sql`b.crop_type IN (${Prisma.join(cropTypes)})`);
  if (input.states) where.push(Prisma.sql`b.current_state IN (${Prisma.join(input.states)})`);
  if (input.harvestedFrom) where.push(Prisma.sql`b.harvest_date >= ${input.harvestedFrom}::date`);
  if (input.harvestedTo) where.push(Prisma.sql`b.harvest_date <= ${input.harvestedTo}::date`);
  if (input.minQuality !== undefined) where.push(Prisma.sql`b.quality_score >= ${input.minQuality}`);
  if (input.certification) {
    where.push(Prisma.sql`b.metadata @> ${JSON.stringify({ certifications: [input.certification] })}::jsonb`);
  }
  if (input.validCertificate) where.push(Prisma.sql`EXISTS (${VALID_CERTIFICATE})`);
  if (input.farmId) where.push(Prisma.sql`b.origin_farm = ${input.farmId}`);
  if (input.region) where.push(Prisma.sql`f.region = ${input.region}`);
  if (input.q) where.push(Prisma.sql`b.search_text ILIKE ${`%${escapeLike(input.q.toLowerCase())}%`}`);
  if (input.cursor) where.push(afterCursor(SORTS[input.sort], ...decodeCursor(input.cursor, input.sort)));
  return where;
}

// A ready certificate valid today; attachments_valid_certificates_idx answers it per batch.
const VALID_CERTIFICATE = Prisma.sql`
  SELECT 1 FROM attachments a
   WHERE a.token_id = b.token_id AND a.kind = 'certificate' AND a.status = 'ready' AND a.valid_until >= current_date`;

const COLUMNS = Prisma.sql`
  b.token_id::text AS token_id, b.crop_type, b.variety, b.quantity::text AS quantity, b.unit,
  to_char(b.harvest_date, 'YYYY-MM-DD') AS harvest_date, b.quality_score, b.current_state,
  b.metadata -> 'certifications' AS certifications, b.owner_address, b.chain_status::text AS chain_status,
  f.id AS farm_id, f.name AS farm_name, f.region AS farm_region, f.country AS farm_country,
  (SELECT a.icon_sha256 FROM attachments a
    WHERE a.token_id = b.token_id AND a.kind = 'photo' AND a.status = 'ready'
    ORDER BY a.created_at, a.id LIMIT 1) AS icon_sha256,
  EXISTS (${VALID_CERTIFICATE}) AS valid_certificate`;

/**
 * With a filter, the page's rows are found first from the columns the indexes carry (the crop index carries
 * certifications and quality, so four filters together walk it alone), and only the page is read from the table:
 * a walk past thousands of rows of a rare combination does not fetch each of them. Without one, every row walked is
 * a row shown, so they are read as they are walked.
 */
export function searchQuery(input: SearchInput): Prisma.Sql {
  const where = filters(input);
  const { column, descending } = SORTS[input.sort];
  const direction = descending ? Prisma.sql`DESC` : Prisma.sql`ASC`;
  const order = Prisma.sql`ORDER BY ${column} ${direction}, b.token_id ${direction}`;
  const page = Prisma.sql`
    ${where.length ? Prisma.sql`WHERE ${Prisma.join(where, " AND ")}` : Prisma.empty}
    ${order}
    LIMIT ${input.limit + 1}
    ${input.offset ? Prisma.sql`OFFSET ${input.offset}` : Prisma.empty}`;
  const filtered = where.length > (input.cursor ? 1 : 0);
  if (!filtered) return Prisma.sql`SELECT ${COLUMNS} FROM crop_batches b JOIN farms f ON f.id = b.origin_farm ${page}`;
  return Prisma.sql`
    SELECT ${COLUMNS}
    FROM (
      SELECT b.token_id FROM crop_batches b
      ${input.region ? Prisma.sql`JOIN farms f ON f.id = b.origin_farm` : Prisma.empty}
      ${page}
    ) page
    JOIN crop_batches b ON b.token_id = page.token_id
    JOIN farms f ON f.id = b.origin_farm
    ${order}`;
}

function toSummary(row: Row): BatchSummary {
  return {
    tokenId: Number(row.token_id),
    cropType: row.crop_type,
    variety: row.variety,
    quantity: Number(row.quantity),
    unit: row.unit,
    harvestDate: row.harvest_date,
    qualityScore: row.quality_score,
    state: row.current_state,
    stateName: stateName(row.current_state),
    certifications: Array.isArray(row.certifications) ? (row.certifications as string[]) : [],
    ownerAddress: checksum(row.owner_address),
    chainStatus: row.chain_status,
    farm: { id: row.farm_id, name: row.farm_name, region: row.farm_region, country: row.farm_country },
    thumbnailUrl: row.icon_sha256 ? fileUrl(row.icon_sha256, "image/webp") : null,
    validCertificate: row.valid_certificate,
  };
}

export async function searchBatches(input: SearchInput): Promise<SearchResult> {
  const query = searchQuery(input);
  const { rows } = await pools.read.query<Row>(query.text, query.values);
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > input.limit && last
      ? encodeCursor(input.sort, SORTS[input.sort].key(last), Number(last.token_id))
      : null;
  return { results: page.map(toSummary), nextCursor };
}
