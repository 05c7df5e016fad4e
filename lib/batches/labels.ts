import type { StateName } from "@/lib/batches/lifecycle";

/** How people read the batch vocabulary on every page (UN/ECE unit codes, lifecycle states, CBV business steps). */
export const UNIT_LABELS: Record<string, string> = { KGM: "kg", TNE: "t", LBR: "lb", H87: "pieces" };

export const STATE_LABELS: Record<StateName, string> = {
  harvested: "Harvested",
  in_transit: "In transit",
  stored: "Stored",
  sold: "Sold",
  consumed: "Consumed",
  recalled: "Recalled",
};

export const STEP_LABELS: Record<string, string> = {
  commissioning: "Harvested and recorded",
  shipping: "Shipped",
  receiving: "Received",
  retail_selling: "Sold",
  decommissioning: "Consumed",
  holding: "Recalled",
  inspecting: "Inspected",
};
