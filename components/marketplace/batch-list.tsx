"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef } from "react";
import { List } from "react-window";
import type { SearchResult } from "@/lib/batches/search-batches";
import { BatchRow, type BatchRowProps, ROW_HEIGHT } from "./batch-row";
import styles from "./marketplace.module.css";
import type { SearchBody } from "./url-filters";

// Start the next page while this many loaded rows are still below the rendered ones.
const PREFETCH_ROWS = 10;

async function fetchPage(body: SearchBody, cursor: string | null, signal: AbortSignal): Promise<SearchResult> {
  const response = await fetch("/api/crop-batches/search", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(cursor ? { ...body, cursor } : body),
    signal,
  });
  if (!response.ok) throw new Error(`The search failed (${response.status}).`);
  return (await response.json()) as SearchResult;
}

export function BatchList({ body, firstPage }: { body: SearchBody; firstPage: SearchResult }) {
  const query = useInfiniteQuery({
    queryKey: ["marketplace", body],
    queryFn: ({ pageParam, signal }) => fetchPage(body, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    initialData: { pages: [firstPage], pageParams: [null] },
  });
  const rows = useMemo(() => query.data.pages.flatMap((page) => page.results), [query.data]);
  const rowProps = useMemo<BatchRowProps>(() => ({ rows }), [rows]);
  const rowKey = useCallback((index: number, data: BatchRowProps) => data.rows[index]?.tokenId ?? index, []);
  const lastRendered = useRef(0);
  const { hasNextPage, isFetchingNextPage, isFetchNextPageError, fetchNextPage } = query;

  const loadIfNearEnd = useCallback(() => {
    if (
      hasNextPage &&
      !isFetchingNextPage &&
      !isFetchNextPageError &&
      lastRendered.current >= rows.length - PREFETCH_ROWS
    ) {
      void fetchNextPage();
    }
  }, [hasNextPage, isFetchingNextPage, isFetchNextPageError, rows.length, fetchNextPage]);

  const onRowsRendered = useCallback(
    (_visible: { startIndex: number; stopIndex: number }, all: { startIndex: number; stopIndex: number }) => {
      lastRendered.current = all.stopIndex;
      loadIfNearEnd();
    },
    [loadIfNearEnd],
  );

  // A page that arrives while the reader waits at the end does not change the rendered range: check again.
  useEffect(loadIfNearEnd, [loadIfNearEnd]);

  if (rows.length === 0) {
    return <p className={styles.empty}>No batches match these filters.</p>;
  }
  return (
    <>
      <List
        className={styles.list}
        rowComponent={BatchRow}
        rowCount={rows.length}
        rowHeight={ROW_HEIGHT}
        rowProps={rowProps}
        rowKey={rowKey}
        onRowsRendered={onRowsRendered}
        scrollElement="window"
        defaultHeight={900}
        overscanCount={3}
        aria-label="Crop batches"
      />
      <p className={styles.status} role="status">
        {isFetchingNextPage
          ? "Loading more batches…"
          : hasNextPage
            ? `${rows.length} batches shown; scroll for more.`
            : `${rows.length} ${rows.length === 1 ? "batch" : "batches"} shown, the end of the list.`}
      </p>
      {isFetchNextPageError && (
        <p className={styles.error} role="alert">
          More batches could not be loaded.{" "}
          <button type="button" className={styles.button} onClick={() => void fetchNextPage()}>
            Try again
          </button>
        </p>
      )}
    </>
  );
}
