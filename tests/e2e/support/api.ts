import { createHash, randomUUID } from "node:crypto";
import { type APIRequestContext, type APIResponse, expect } from "@playwright/test";
import canonicalize from "canonicalize";
import type { BatchDto, TimelineEntry } from "@/lib/batches/batch-dto";
import type { BatchSummary, SearchResult } from "@/lib/batches/search-batches";
import type { Verification } from "@/lib/verify/get-verification";
import { E2E_CROP } from "./server";

export type { BatchDto, BatchSummary, SearchResult, TimelineEntry, Verification };
export type BatchWithTimeline = BatchDto & { timeline: TimelineEntry[] };

export type ErrorBody = { error: { code: string; message: string; fields?: { path: string; message: string }[] } };

export type BatchInput = {
  clientId: string;
  cropType: string;
  variety?: string;
  quantity: number;
  unit: "KGM" | "TNE" | "LBR" | "H87";
  harvestDate: string;
  farmId: number;
  qualityScore: number;
  metadata?: {
    certifications?: string[];
    grade?: string;
    organic?: boolean;
    notes?: string;
    attributes?: Record<string, string | number | boolean>;
  };
  gtin?: string;
  lot?: string;
};

/** YYYY-MM-DD (UTC) `days` from today; negative is the past. */
export function isoDay(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

export function batchInput(overrides: Partial<BatchInput> = {}): BatchInput {
  return {
    clientId: randomUUID(),
    cropType: E2E_CROP,
    variety: "San Marzano",
    quantity: 120.5,
    unit: "KGM",
    harvestDate: isoDay(-2),
    farmId: 1,
    qualityScore: 88,
    metadata: { certifications: ["EU Organic"], organic: true, grade: "Class I", attributes: { brix: 6.5 } },
    ...overrides,
  };
}

/** The documented proof: SHA-256 over the RFC 8785 canonical JSON of the record, quantity with 3 decimals. */
export function expectedContentHash(input: BatchInput): string {
  const canonical = canonicalize({
    clientId: input.clientId,
    cropType: input.cropType.trim().toLowerCase(),
    variety: input.variety?.trim() ?? null,
    quantity: input.quantity.toFixed(3),
    unit: input.unit,
    harvestDate: input.harvestDate,
    farmId: input.farmId,
    qualityScore: input.qualityScore,
    metadata: input.metadata ?? {},
    ...(input.gtin && input.lot ? { gtin: input.gtin.padStart(14, "0"), lot: input.lot } : {}),
  });
  if (canonical === undefined) throw new Error("record cannot be canonicalized");
  return createHash("sha256").update(canonical).digest("hex");
}

export async function createBatch(
  context: APIRequestContext,
  input: BatchInput = batchInput(),
  headers: Record<string, string> = {},
): Promise<BatchDto> {
  const response = await context.post("/api/crop-batches", { data: input, headers });
  expect(response.status(), await response.text()).toBe(201);
  return (await response.json()) as BatchDto;
}

export async function getBatch(context: APIRequestContext, tokenId: number): Promise<BatchWithTimeline> {
  const response = await context.get(`/api/crop-batches/${tokenId}`);
  expect(response.status(), await response.text()).toBe(200);
  return (await response.json()) as BatchWithTimeline;
}

export async function search(context: APIRequestContext, body: Record<string, unknown>): Promise<SearchResult> {
  const response = await context.post("/api/crop-batches/search", { data: body });
  expect(response.status(), await response.text()).toBe(200);
  return (await response.json()) as SearchResult;
}

/** Every row matching `filter`, following nextCursor to the end. */
export async function searchAll(
  context: APIRequestContext,
  filter: Record<string, unknown> = {},
): Promise<BatchSummary[]> {
  const rows: BatchSummary[] = [];
  let cursor: string | null = null;
  do {
    const page: SearchResult = await search(context, { ...filter, limit: 100, ...(cursor ? { cursor } : {}) });
    rows.push(...page.results);
    cursor = page.nextCursor;
  } while (cursor);
  return rows;
}

/** Asserts the one error shape of lib/api/errors.ts, exactly. */
export async function expectError(response: APIResponse, status: number, error: ErrorBody["error"]): Promise<void> {
  const text = await response.text();
  expect(response.status(), text).toBe(status);
  expect(response.headers()["content-type"]).toMatch(/^application\/json/);
  expect(JSON.parse(text)).toEqual({ error });
}

/** The verification once the relayer has minted and the indexer has seen the batch's latest state on chain. */
export async function verifiedOnChain(
  context: APIRequestContext,
  tokenId: number,
  expectedState?: number,
): Promise<Verification> {
  let last: Verification | undefined;
  await expect
    .poll(
      async () => {
        last = (await (await context.get(`/api/verify/${tokenId}`)).json()) as Verification;
        return (
          last.status === "verified" && (expectedState === undefined || last.proof.chain.onChainState === expectedState)
        );
      },
      { timeout: 30_000, intervals: [100, 250, 500] },
    )
    .toBe(true);
  return last as Verification;
}
