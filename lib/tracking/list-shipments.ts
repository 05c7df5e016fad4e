import { IN_TRANSIT } from "@/lib/batches/lifecycle";
import { db } from "@/lib/db/client";

/** The batches `address` carries right now: shipped to it and not yet received. */
export function carriedBy(address: string) {
  return { custodianAddress: address, currentState: IN_TRANSIT };
}

export type Shipment = { tokenId: number; cropType: string; variety: string | null; from: string };

/** A transporter's active shipments, for the transporter's app. */
export async function listShipments(address: string): Promise<Shipment[]> {
  const rows = await db.cropBatch.findMany({
    where: carriedBy(address),
    select: { tokenId: true, cropType: true, variety: true, farm: { select: { name: true, region: true } } },
    orderBy: { tokenId: "asc" },
  });
  return rows.map((row) => ({
    tokenId: Number(row.tokenId),
    cropType: row.cropType,
    variety: row.variety,
    from: `${row.farm.name}, ${row.farm.region}`,
  }));
}
