import { type BatchSummary, search, searchAll } from "../support/api";
import { expect, test } from "../support/fixtures";
import { DEMO_BATCHES, E2E_CROP } from "../support/server";

/** Newest harvest first, then the higher token id: the order the cursor encodes. */
function inSearchOrder(rows: BatchSummary[]): boolean {
  return rows.every((row, index) => {
    const previous = rows[index - 1];
    if (!previous) return true;
    return (
      previous.harvestDate > row.harvestDate ||
      (previous.harvestDate === row.harvestDate && previous.tokenId > row.tokenId)
    );
  });
}

test("cursor pagination walks the demo data in order without repeating a row", async ({ request }) => {
  const pages: BatchSummary[][] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 3; page++) {
    const result = await search(request, { limit: 25, ...(cursor ? { cursor } : {}) });
    expect(result.results).toHaveLength(25);
    expect(result.nextCursor).toEqual(expect.any(String));
    pages.push(result.results);
    cursor = result.nextCursor;
  }
  const rows = pages.flat();
  expect(new Set(rows.map((row) => row.tokenId)).size).toBe(75);
  expect(inSearchOrder(rows)).toBe(true);

  // Offset paging over the same, unchanged data gives the very same pages.
  for (const [index, page] of pages.entries()) {
    const byOffset = await search(request, { limit: 25, offset: index * 25 });
    expect(byOffset.results).toEqual(page);
  }
});

test("following the cursor to the end returns every demo batch exactly once", async ({ request }) => {
  const rows = await searchAll(request);
  expect(new Set(rows.map((row) => row.tokenId)).size).toBe(rows.length);
  expect(inSearchOrder(rows)).toBe(true);
  expect(rows.filter((row) => row.cropType !== E2E_CROP)).toHaveLength(DEMO_BATCHES);
});

test("filters combine with the cursor", async ({ request }) => {
  const filter = { cropTypes: ["tomato", "apple"], minQuality: 70, states: [0, 1, 2] };
  const rows = await searchAll(request, filter);
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) {
    expect(["tomato", "apple"]).toContain(row.cropType);
    expect(row.qualityScore).toBeGreaterThanOrEqual(70);
    expect([0, 1, 2]).toContain(row.state);
  }
  const everything = await searchAll(request);
  const expected = everything.filter(
    (row) => ["tomato", "apple"].includes(row.cropType) && row.qualityScore >= 70 && [0, 1, 2].includes(row.state),
  );
  expect(rows).toEqual(expected);
});
