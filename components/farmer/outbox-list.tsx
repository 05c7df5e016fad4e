"use client";

import { UNIT_LABELS } from "@/lib/batches/labels";
import { downloadOutbox } from "@/lib/offline/outbox-export";
import { type Attempted, describeFailure, describeNextTry, type PendingBatch } from "@/lib/offline/outbox-state";
import styles from "./farmer.module.css";
import { useFarmer } from "./farmer-app";
import { plural } from "./plural";
import { useNow } from "./use-now";

/** Why a batch or file is still on the phone: the last try's failure and the next one, or the server's refusal. */
export function Reason({ item, now, online }: { item: Attempted; now: number; online: boolean }) {
  const error = item.lastError;
  if (!error) return null;
  if (item.status === "pending") {
    return (
      <p className={styles.muted} data-testid="reason">
        {describeFailure(error)} {describeNextTry(item.nextAttemptAt, now, online)}
      </p>
    );
  }
  return (
    <div className={styles.error} data-testid="reason">
      Not accepted: {error.message}
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

/** The batches only this phone holds (`batches`: the outbox minus what the ledger already lists). */
export function OutboxList({ batches }: { batches: PendingBatch[] }) {
  const { discard, files, online, persisted } = useFarmer();
  const now = useNow(batches.some((batch) => batch.status === "pending" && batch.lastError));
  if (batches.length === 0) return null;
  const filesOf = (batch: PendingBatch) => files.filter((file) => file.batchClientId === batch.clientId);

  return (
    <section className={styles.panel} aria-labelledby="outbox-heading">
      <h2 id="outbox-heading">On this phone, not yet synced</h2>
      {persisted === false && (
        <p className={styles.warning} data-testid="storage-warning">
          The browser may clear these batches if the phone runs low on space: sync or export them soon.
        </p>
      )}
      <ul className={styles.list} data-testid="outbox">
        {batches.map((batch) => {
          const attached = filesOf(batch);
          return (
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
                {attached.length > 0 && ` · ${plural(attached.length, "file")} with it`}
              </p>
              <Reason item={batch} now={now} online={online} />
              {batch.status === "needs-attention" && (
                <div className={styles.row}>
                  <a className={styles.primary} href={`/farmer/new#fix=${batch.clientId}`}>
                    Fix and resend
                  </a>
                  <button
                    type="button"
                    className={styles.secondary}
                    onClick={() => void downloadOutbox([batch], attached)}
                  >
                    Export
                  </button>
                  <button
                    type="button"
                    className={styles.danger}
                    onClick={() => {
                      const also =
                        attached.length > 0
                          ? ` The ${plural(attached.length, "file")} waiting with it will be discarded too.`
                          : "";
                      if (window.confirm(`Discard this batch? It was never accepted by the server.${also}`)) {
                        void discard(batch.clientId);
                      }
                    }}
                  >
                    Discard
                  </button>
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
