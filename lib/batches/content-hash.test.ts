import { describe, expect, it } from "vitest";
import { type BatchRecord, contentHash } from "@/lib/batches/content-hash";

const record: BatchRecord = {
  clientId: "3f1c2a4e-9a8b-4c7d-8e6f-1a2b3c4d5e6f",
  cropType: "tomato",
  variety: "Roma",
  quantity: "120.500",
  unit: "KGM",
  harvestDate: "2026-10-01",
  farmId: 7,
  qualityScore: 88,
  metadata: { organic: true, certifications: ["EU Organic"] },
};

describe("contentHash", () => {
  it("ignores key order and number formatting", () => {
    const reordered = { ...record, metadata: { certifications: ["EU Organic"], organic: true }, quantity: "120.5" };
    expect(contentHash(reordered)).toBe(contentHash(record));
  });

  it("changes when any recorded fact changes", () => {
    const base = contentHash(record);
    expect(contentHash({ ...record, qualityScore: 87 })).not.toBe(base);
    expect(contentHash({ ...record, harvestDate: "2026-10-02" })).not.toBe(base);
    expect(contentHash({ ...record, metadata: { organic: false } })).not.toBe(base);
  });

  it("is a 64-character hex SHA-256", () => {
    expect(contentHash(record)).toMatch(/^[0-9a-f]{64}$/);
  });
});
