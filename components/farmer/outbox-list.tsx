"use client";

import { UNIT_LABELS } from "@/lib/batches/labels";
import { downloadOutbox } from "@/lib/offline/outbox-export";
import type { PendingBatch } from "@/lib/offline/outbox-state";
import styles from "./farmer.module.css";
import { useFarmer } from "./farmer-app";

function Reason({ batch }: { batch: PendingBatch }) {
  const error = batch.lastError;
  if (!error) return null;
  return (
    <div className={batch.status === "needs-attention" ? styles.error : styles.muted} data-testid="reason">
      {batch.status === "needs-attention" ? "Not accepted: " : "Last try: "}
      {error.message}
      {error.fields && (
        <ul>
          {error.fields.map((field) => (
            <li key={field.path}>
              {field.path}: {field.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function OutboxList() {
  const { pending, discard } = useFarmer();
  if (pending.length === 0) return null;

  return (
    <section className={styles.panel} aria-labelledby="outbox-heading">
      <h2 id="outbox-heading">On this phone, not yet synced</h2>
      <ul className={styles.list} data-testid="outbox">
        {pending.map((batch) => (
          <li key={batch.clientId} data-client-id={batch.clientId} data-status={batch.status}>
            <div className={styles.item}>
              <strong>
                {batch.body.cropType}
                {batch.body.variety ? ` (${batch.body.variety})` : ""}
              </strong>
              <span className={batch.status === "needs-attention" ? styles.badgeAttention : styles.badgeWaiting}>
                {batch.status === "needs-attention" ? "Needs attention" : "Waiting to sync"}
              </span>
            </div>
            <p className={styles.muted}>
              {batch.body.quantity} {UNIT_LABELS[batch.body.unit] ?? batch.body.unit} · harvested{" "}
              {batch.body.harvestDate} · saved {new Date(batch.savedAt).toLocaleString()}
            </p>
            <Reason batch={batch} />
            {batch.status === "needs-attention" && (
              <div className={styles.row}>
                <a className={styles.primary} href={`/farmer/new#fix=${batch.clientId}`}>
                  Fix and resend
                </a>
                <button type="button" className={styles.secondary} onClick={() => downloadOutbox([batch])}>
                  Export
                </button>
                <button
                  type="button"
                  className={styles.danger}
                  onClick={() => {
                    if (window.confirm("Discard this batch? It was never accepted by the server.")) {
                      void discard(batch.clientId);
                    }
                  }}
                >
                  Discard
                </button>
              </div>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
