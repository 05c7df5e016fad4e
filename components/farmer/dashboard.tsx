"use client";

import { useEffect, useState } from "react";
import { UNIT_LABELS } from "@/lib/batches/labels";
import type { MyBatch, MyBatchesPage } from "@/lib/batches/list-my-batches";
import { downloadOutbox } from "@/lib/offline/outbox-export";
import { FARMER_API, PREFETCH_ROUTES, type PrefetchRoutesMessage } from "@/lib/offline/worker-messages";
import styles from "./farmer.module.css";
import { useFarmer } from "./farmer-app";
import { OutboxList } from "./outbox-list";

/** Lets the worker cache the batch pages the farmer is likely to open in the field. */
function prefetchBatchPages(batches: MyBatch[]): void {
  const message: PrefetchRoutesMessage = {
    type: PREFETCH_ROUTES,
    routes: batches.slice(0, 10).map((batch) => `/farmer/batches/${batch.tokenId}`),
  };
  navigator.serviceWorker?.controller?.postMessage(message);
}

function ServerBatches() {
  const { deliveries, online } = useFarmer();
  const [page, setPage] = useState<MyBatchesPage | null>(null);
  const [failed, setFailed] = useState(false);

  // Reloads when a replay delivered batches or the phone came back online: the list then has new token ids.
  useEffect(() => {
    void deliveries;
    void online;
    let stale = false;
    fetch(FARMER_API.myBatches)
      .then(async (response) => {
        if (!response.ok) throw new Error(String(response.status));
        const body = (await response.json()) as MyBatchesPage;
        if (stale) return;
        setPage(body);
        setFailed(false);
        prefetchBatchPages(body.results);
      })
      .catch(() => !stale && setFailed(true));
    return () => {
      stale = true;
    };
  }, [deliveries, online]);

  return (
    <section className={styles.panel} aria-labelledby="synced-heading">
      <h2 id="synced-heading">On the ledger</h2>
      {!page && (
        <p className={styles.muted}>
          {failed ? "Your batches will show here once the phone has been online." : "Loading your batches…"}
        </p>
      )}
      {page && page.results.length === 0 && <p className={styles.muted}>No batches yet.</p>}
      {page && page.results.length > 0 && (
        <ul className={styles.list} data-testid="synced-batches">
          {page.results.map((batch) => (
            <li key={batch.tokenId} data-client-id={batch.clientId}>
              <div className={styles.item}>
                <a href={`/farmer/batches/${batch.tokenId}`}>
                  #{batch.tokenId} {batch.cropType}
                  {batch.variety ? ` (${batch.variety})` : ""}
                </a>
                <span className={styles.badge}>{batch.chainStatus === "pending" ? "Recorded" : "On chain"}</span>
              </div>
              <p className={styles.muted}>
                {batch.quantity} {UNIT_LABELS[batch.unit] ?? batch.unit} · harvested {batch.harvestDate} ·{" "}
                {batch.farm.name}
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function Dashboard() {
  const { session, pending, online, syncing, needsSignIn, persisted, syncNow } = useFarmer();
  const waiting = pending.filter((batch) => batch.status === "pending").length;
  const attention = pending.length - waiting;

  return (
    <main className={styles.page}>
      <h1>Your batches</h1>
      {session === null && (
        <p className={styles.panel}>
          You are not signed in. <a href="/signin?next=/farmer">Sign in with your wallet</a> once while online; after
          that the app works without signal.
        </p>
      )}
      <section className={styles.panel} aria-labelledby="sync-heading">
        <h2 id="sync-heading">Sync</h2>
        <p data-testid="sync-state" className={needsSignIn ? styles.error : styles.muted}>
          {needsSignIn
            ? "Your session has ended: sign in again to send the waiting batches."
            : !online
              ? `Offline. ${waiting ? `${waiting} saved on this phone, sent when you are back online.` : "Nothing waiting."}`
              : syncing
                ? "Sending…"
                : waiting
                  ? `${waiting} waiting to be sent.`
                  : attention
                    ? `${attention} not accepted by the server: fix, export or discard ${attention === 1 ? "it" : "them"} below.`
                    : "Everything saved on this phone has reached the ledger."}
        </p>
        <p className={styles.muted} data-testid="storage-state">
          {persisted
            ? "Saved batches are kept on this phone until they are sent."
            : "The browser may clear saved batches if the phone runs low on space: sync or export them soon."}
        </p>
        <div className={styles.row}>
          <a className={styles.primary} href="/farmer/new">
            New batch
          </a>
          <button type="button" className={styles.secondary} onClick={syncNow} disabled={!online || syncing}>
            Sync now
          </button>
          <button
            type="button"
            className={styles.secondary}
            onClick={() => downloadOutbox(pending)}
            disabled={pending.length === 0}
          >
            Export unsynced (JSON)
          </button>
        </div>
      </section>
      <OutboxList />
      {session !== null && <ServerBatches />}
    </main>
  );
}
