import { db } from "@/lib/db/client";
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

/** Ready when it is not shutting down and the primary answers (a replica that is away only sends reads there). */
export async function getReadiness(): Promise<Readiness> {
  if (draining) return { ready: false, reason: "draining" };
  const now = Date.now();
  if (!probe || now - probe.at > PROBE_EVERY_MS) probe = { at: now, answers: databaseAnswers(db) };
  return (await probe.answers) ? { ready: true } : { ready: false, reason: "database_down" };
}
