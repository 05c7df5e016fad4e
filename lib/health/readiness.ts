import { db, primaryAnsweredWithin } from "@/lib/db/client";
import { databaseAnswers } from "@/lib/health/get-health";

export type Readiness = { ready: true } | { ready: false; reason: "draining" | "database_down" };

// A balancer asks every instance about once a second: the primary is probed at most that often per process.
const PROBE_EVERY_MS = 1_000;

let draining = false;
let probe: { at: number; answers: Promise<boolean> } | undefined;

/** From now on this process answers not ready, and its answers close their connections. */
export function startDraining(): void {
  draining = true;
}

export function isDraining(): boolean {
  return draining;
}

/**
 * Ready when it is not shutting down and the primary answers (a replica that is away only sends reads there). Under
 * load the queries it answers anyway say so: a probe would wait in the pool behind them, and a busy instance that a
 * balancer took for a dead one would pass its load to the others until they fell over too.
 */
export async function getReadiness(): Promise<Readiness> {
  if (draining) return { ready: false, reason: "draining" };
  if (primaryAnsweredWithin(PROBE_EVERY_MS)) return { ready: true };
  const now = Date.now();
  if (!probe || now - probe.at > PROBE_EVERY_MS) probe = { at: now, answers: databaseAnswers(db) };
  return (await probe.answers) ? { ready: true } : { ready: false, reason: "database_down" };
}
