"use client";

import { useRouter } from "next/navigation";
import { useCallback, useMemo, useTransition } from "react";
import type { Facets } from "@/lib/batches/get-facets";
import type { SearchResult } from "@/lib/batches/search-batches";
import { BatchList } from "./batch-list";
import { FilterForm } from "./filter-form";
import styles from "./marketplace.module.css";
import { type Filters, filtersToQuery, searchBody } from "./url-filters";

type Props = { filters: Filters; facets: Facets; firstPage: SearchResult };

/** The URL is the state: a filter change navigates, and the server renders that filter's first page. */
export function Marketplace({ filters, facets, firstPage }: Props) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const query = filtersToQuery(filters);
  const apply = useCallback(
    (next: Filters) => {
      const target = filtersToQuery(next);
      if (target === query) return;
      startTransition(() => router.push(`/marketplace${target}`, { scroll: false }));
    },
    [query, router],
  );
  const body = useMemo(() => searchBody(filters), [filters]);
  return (
    <>
      <a className="skip-link" href="#results">
        Skip to results
      </a>
      <FilterForm filters={filters} facets={facets} pending={pending} onApply={apply} />
      <section id="results" tabIndex={-1} className={styles.results} aria-label="Batches" aria-busy={pending}>
        <BatchList key={query} body={body} firstPage={firstPage} />
      </section>
    </>
  );
}
