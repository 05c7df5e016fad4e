import "server-only";
import { cached } from "@/lib/cache/tiered-cache";
import { dbRead } from "@/lib/db/client";

export type Facets = { cropTypes: string[]; certifications: string[]; regions: string[] };

const FACET_LIMIT = 200;
const TTL_MS = 60_000;

async function loadFacets(): Promise<Facets> {
  const [crops, certifications, regions] = await Promise.all([
    dbRead.$queryRaw<{ value: string }[]>`
      SELECT DISTINCT crop_type AS value FROM crop_batches ORDER BY 1 LIMIT ${FACET_LIMIT}`,
    dbRead.$queryRaw<{ value: string }[]>`
      SELECT DISTINCT c.value FROM crop_batches b,
        jsonb_array_elements_text(b.metadata -> 'certifications') AS c(value)
      WHERE jsonb_typeof(b.metadata -> 'certifications') = 'array'
      ORDER BY 1 LIMIT ${FACET_LIMIT}`,
    dbRead.$queryRaw<{ value: string }[]>`SELECT DISTINCT region AS value FROM farms ORDER BY 1 LIMIT ${FACET_LIMIT}`,
  ]);
  const values = (rows: { value: string }[]) => rows.map((row) => row.value);
  return { cropTypes: values(crops), certifications: values(certifications), regions: values(regions) };
}

/** The marketplace's filter options; the key changes every minute, so they are at most a minute old. */
export function getFacets(now = Date.now()): Promise<Facets> {
  return cached(`facets:${Math.floor(now / TTL_MS)}`, loadFacets);
}
