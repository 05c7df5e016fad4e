import "server-only";
import { z } from "zod";
import { checksum } from "@/lib/batches/batch-dto";
import { dbRead } from "@/lib/db/client";
import { Prisma } from "@/lib/generated/prisma/client";

// `?lat=` would coerce to 0 and search the Gulf of Guinea: a blank value counts as absent.
const blankToMissing = (value: unknown) => (typeof value === "string" && value.trim() === "" ? undefined : value);

export const nearbySchema = z
  .object({
    lat: z.preprocess(blankToMissing, z.coerce.number().min(-90).max(90)),
    lng: z.preprocess(blankToMissing, z.coerce.number().min(-180).max(180)),
    radiusKm: z.preprocess(blankToMissing, z.coerce.number().min(0.001).max(500).default(25)),
  })
  .strict();

export type NearbyTransporter = {
  id: number;
  address: string;
  name: string;
  latitude: number;
  longitude: number;
  distanceKm: number;
  updatedAt: string;
};

type Row = {
  id: number;
  address: string;
  name: string;
  latitude: number;
  longitude: number;
  distance_m: number;
  updated_at: Date;
};

export function nearbyQuery({ lat, lng, radiusKm }: z.infer<typeof nearbySchema>): Prisma.Sql {
  const radius = radiusKm * 1000;
  // earth_box on the GiST index narrows to a cube; earth_distance then trims its corners.
  return Prisma.sql`
    SELECT id, address, name, latitude, longitude, updated_at,
           earth_distance(ll_to_earth(${lat}, ${lng}), ll_to_earth(latitude, longitude)) AS distance_m
    FROM transporters
    WHERE status = 'available'
      AND earth_box(ll_to_earth(${lat}, ${lng}), ${radius}) @> ll_to_earth(latitude, longitude)
      AND earth_distance(ll_to_earth(${lat}, ${lng}), ll_to_earth(latitude, longitude)) <= ${radius}
    ORDER BY distance_m
    LIMIT 50`;
}

export async function findNearbyTransporters(query: z.infer<typeof nearbySchema>): Promise<NearbyTransporter[]> {
  const rows = await dbRead.$queryRaw<Row[]>(nearbyQuery(query));
  return rows.map((row) => ({
    id: row.id,
    address: checksum(row.address),
    name: row.name,
    latitude: row.latitude,
    longitude: row.longitude,
    distanceKm: Math.round(row.distance_m) / 1000,
    updatedAt: row.updated_at.toISOString(),
  }));
}
