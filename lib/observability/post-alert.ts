import { createHash } from "node:crypto";
import { log } from "@/lib/log";

const TIMEOUT_MS = 5_000;
/** Alertmanager's endsAt for an alert still firing: Go's zero time. */
const STILL_FIRING = "0001-01-01T00:00:00Z";

export type AlertChange = {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: Date;
  endsAt: Date | null;
  /** Where a person sees it: the operations page. */
  url: string;
};

/** Alertmanager's webhook payload (version 4) for one alert, so a receiver of Prometheus's alerts takes these too. */
function payload({ status, labels, annotations, startsAt, endsAt, url }: AlertChange) {
  const names = Object.keys(labels).sort();
  const matchers = names.map((name) => `${name}=${JSON.stringify(labels[name])}`).join(", ");
  return {
    version: "4",
    groupKey: `{}:{${matchers}}`,
    truncatedAlerts: 0,
    status,
    receiver: "greenledger",
    groupLabels: labels,
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: url,
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: startsAt.toISOString(),
        endsAt: endsAt?.toISOString() ?? STILL_FIRING,
        generatorURL: url,
        fingerprint: createHash("sha256").update(matchers).digest("hex").slice(0, 16),
      },
    ],
  };
}

/** POSTs the change to the webhook; a failure or a timeout is logged, never thrown: an alert must not stop the monitor. */
export async function postAlert(webhookUrl: string, change: AlertChange): Promise<void> {
  try {
    const response = await fetch(webhookUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload(change)),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`the alert webhook answered ${response.status}`);
  } catch (error) {
    log.warn({ err: error, alert: change.labels, status: change.status }, "alert webhook failed");
  }
}
