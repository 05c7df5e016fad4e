import "server-only";
import { z } from "zod";
import { db } from "@/lib/db/client";
import type { Farm } from "@/lib/generated/prisma/client";

export const registerFarmSchema = z
  .object({
    name: z.string().trim().min(2).max(160),
    region: z.string().trim().min(2).max(120),
    country: z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 code"),
    latitude: z.number().min(-90).max(90),
    longitude: z.number().min(-180).max(180),
  })
  .strict();

export async function registerFarm(input: z.infer<typeof registerFarmSchema>, owner: string): Promise<Farm> {
  return db.farm.create({ data: { ...input, ownerAddress: owner } });
}

export async function listFarms(owner: string): Promise<Farm[]> {
  return db.farm.findMany({ where: { ownerAddress: owner }, orderBy: { id: "asc" } });
}
