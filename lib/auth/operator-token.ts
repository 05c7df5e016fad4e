import { timingSafeEqual } from "node:crypto";
import { env } from "@/lib/env.mjs";

/** The request carries `Authorization: Bearer <METRICS_TOKEN>`: an operator's tool (Prometheus, trace:analyze). */
export function hasOperatorToken(authorization: string | null): boolean {
  if (!env.METRICS_TOKEN) return false;
  const given = Buffer.from(authorization ?? "");
  const expected = Buffer.from(`Bearer ${env.METRICS_TOKEN}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
