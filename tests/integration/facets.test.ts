import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { POST as createBatch } from "@/app/api/crop-batches/route";
import { getFacets } from "@/lib/batches/get-facets";
import { db } from "@/lib/db/client";
import { call, farmOf, newBatch, type TestUser, userWithRole } from "@/tests/support/api";

describe("getFacets", () => {
  const tag = randomUUID().slice(0, 8);
  const crop = `facetcrop-${tag}`;
  const region = `Facet Vale ${tag}`;
  const certification = `Facet Cert ${tag}`;
  let farmer: TestUser;
  let farmId: number;

  const make = async (cropType: string, certifications?: string[]) => {
    const body = newBatch(farmId, { cropType, metadata: certifications ? { certifications } : {} });
    const response = await call(createBatch, {}, { method: "POST", body, cookie: farmer.cookie });
    expect(response.status).toBe(201);
  };

  beforeAll(async () => {
    farmer = await userWithRole("farmer");
    const farm = await farmOf(farmer.address);
    await db.farm.update({ where: { id: farm.id }, data: { region } });
    farmId = farm.id;
    await make(crop.toUpperCase(), [certification, "EU Organic"]);
    await make(crop, []);
    await make(`${crop}-plain`);
  });

  it("lists distinct crop types, certifications and regions", async () => {
    const facets = await getFacets(Date.UTC(2030, 0, 1, 0, 0));
    expect(facets.cropTypes.filter((value) => value.startsWith(crop))).toEqual([crop, `${crop}-plain`]);
    expect(facets.certifications.filter((value) => value === certification)).toEqual([certification]);
    expect(facets.certifications).toContain("EU Organic");
    expect(facets.regions.filter((value) => value === region)).toEqual([region]);
    for (const list of [facets.cropTypes, facets.certifications, facets.regions]) {
      expect(list).toHaveLength(new Set(list).size);
    }
  });

  it("keeps the options for the rest of the minute, then reloads them", async () => {
    const minute = Date.UTC(2030, 0, 1, 0, 5);
    const before = await getFacets(minute);
    const fresh = `Facet Later ${tag}`;
    await make(crop, [fresh]);
    expect(await getFacets(minute + 59_999)).toEqual(before);
    expect((await getFacets(minute + 60_000)).certifications).toContain(fresh);
  });
});
