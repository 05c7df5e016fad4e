import type { Role } from "@/lib/generated/prisma/enums";

export const STATES = ["harvested", "in_transit", "stored", "sold", "consumed", "recalled"] as const;
export type StateName = (typeof STATES)[number];
export const IN_TRANSIT = 1;
export const RECALLED = 5;

export type BatchAction = "ship" | "receive" | "sell" | "consume" | "recall" | "inspect";

type Rule = {
  from: readonly number[];
  to: number | "same";
  /** Who may act: the batch owner, its current custodian (the transporter carrying it), or any holder of a role. */
  actors: readonly ("owner" | "custodian" | Role)[];
};

export const TRANSITIONS: Record<BatchAction, Rule> = {
  ship: { from: [0, 2], to: IN_TRANSIT, actors: ["owner"] },
  receive: { from: [1], to: 2, actors: ["owner", "custodian"] },
  sell: { from: [0, 2], to: 3, actors: ["owner"] },
  consume: { from: [3], to: 4, actors: ["owner"] },
  recall: { from: [0, 1, 2, 3, 4], to: RECALLED, actors: ["owner", "inspector", "admin"] },
  inspect: { from: [0, 1, 2, 3], to: "same", actors: ["inspector", "admin"] },
};

export function stateName(state: number): StateName {
  const name = STATES[state];
  if (!name) throw new Error(`Unknown batch state ${state}`);
  return name;
}

export function nextState(action: BatchAction, current: number): number | null {
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(current)) return null;
  return rule.to === "same" ? current : rule.to;
}

export function mayAct(
  action: BatchAction,
  actor: { address: string; role: Role },
  batch: { ownerAddress: string; custodianAddress: string | null },
): boolean {
  return TRANSITIONS[action].actors.some((who) => {
    if (who === "owner") return batch.ownerAddress === actor.address;
    if (who === "custodian") return batch.custodianAddress === actor.address;
    return actor.role === who;
  });
}
