import type { StateName } from "@/lib/batches/lifecycle";
import type { SearchSort } from "@/lib/batches/sorts";

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

export const SORT_LABELS: Record<SearchSort, string> = {
  newest: "Newest harvest first",
  oldest: "Oldest harvest first",
  quality: "Highest quality first",
  quantity: "Largest quantity first",
};
