import type { Metadata } from "next";
import { Marketplace } from "@/components/marketplace/marketplace";
import { type Filters, filtersFromParams, searchBody } from "@/components/marketplace/url-filters";
import { QueryProvider } from "@/components/query-provider";
import { getFacets } from "@/lib/batches/get-facets";
import { type SearchInput, searchSchema } from "@/lib/batches/schema";
import { searchBatchesCached } from "@/lib/batches/search-batches-cached";
import styles from "./marketplace.module.css";

export const metadata: Metadata = {
  title: "Marketplace",
  description: "Crop batches for sale, searchable by crop, certification, quality, harvest date and region.",
};

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

const BODY_TO_FILTER: Record<string, keyof Filters> = { states: "state", limit: "pageSize" };

/** Drops whatever the search schema refuses (e.g. from after to), so a hand-edited URL still shows a page. */
function validated(filters: Filters): { filters: Filters; input: SearchInput } {
  const parsed = searchSchema.safeParse(searchBody(filters));
  if (parsed.success) return { filters, input: parsed.data };
  const refused = new Set(parsed.error.issues.map((issue) => String(issue.path[0])));
  const kept = { ...filters };
  for (const name of refused) delete kept[BODY_TO_FILTER[name] ?? (name as keyof Filters)];
  const retry = { ...kept, state: kept.state ?? "forSale" };
  const again = searchSchema.safeParse(searchBody(retry));
  if (again.success) return { filters: retry, input: again.data };
  const none: Filters = { state: "forSale" };
  return { filters: none, input: searchSchema.parse(searchBody(none)) };
}

export default async function MarketplacePage({ searchParams }: Props) {
  const { filters, input } = validated(filtersFromParams(await searchParams));
  const [facets, firstPage] = await Promise.all([getFacets(), searchBatchesCached(input)]);
  return (
    <main id="main" tabIndex={-1} className={styles.page}>
      <header className="page-header">
        <h1>Marketplace</h1>
        <p>Crop batches with their full custody record, sorted and filtered the way you choose.</p>
      </header>
      <QueryProvider>
        <Marketplace filters={filters} facets={facets} firstPage={firstPage} />
      </QueryProvider>
    </main>
  );
}
