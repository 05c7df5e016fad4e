"use client";

import { useEffect, useMemo, useState } from "react";
import { UNIT_LABELS } from "@/lib/batches/labels";
import type { MyBatch, MyBatchesPage } from "@/lib/batches/list-my-batches";
import { assignTokens } from "@/lib/offline/file-outbox";
import { resolveDelivered } from "@/lib/offline/outbox";
import { downloadOutbox } from "@/lib/offline/outbox-export";
import {
  FARMER_API,
  FROM_CACHE_HEADER,
  PREFETCH_ROUTES,
  type PrefetchRoutesMessage,
} from "@/lib/offline/worker-messages";
import styles from "./farmer.module.css";
import { useFarmer } from "./farmer-app";
import { OutboxList } from "./outbox-list";
import { plural } from "./plural";
import { WaitingFiles } from "./waiting-files";

/** Lets the worker cache the batch pages the farmer is likely to open in the field. */
function prefetchBatchPages(batches: MyBatch[]): void {
  const message: PrefetchRoutesMessage = {
    type: PREFETCH_ROUTES,
    routes: batches.slice(0, 10).map((batch) => `/farmer/batches/${batch.tokenId}`),
  };
  navigator.serviceWorker?.controller?.postMessage(message);
}

/** The ledger list; `asOf` is when the server sent it, set when it came from the worker's cache. */
type Ledger = { page: MyBatchesPage | null; failed: boolean; asOf: Date | null };

// Online but answered from the cache (the server took longer than the worker's 3 s): ask again a little later.
const RETRY_CACHED_MS = 10_000;

function useLedger(enabled: boolean): Ledger {
  const { deliveries, online } = useFarmer();
  const [ledger, setLedger] = useState<Ledger>({ page: null, failed: false, asOf: null });
  const [retries, setRetries] = useState(0);

  // Reloads when a replay delivered batches or the phone came back online: the list then has new token ids.
  useEffect(() => {
    void deliveries;
    void online;
    void retries;
    if (!enabled) return;
    let stale = false;
    let retry: number | undefined;
    fetch(FARMER_API.myBatches)
      .then(async (response) => {
        if (!response.ok) throw new Error(String(response.status));
        const page = (await response.json()) as MyBatchesPage;
        if (stale) return;
        const date = response.headers.get("date");
        const cached = response.headers.has(FROM_CACHE_HEADER) && date !== null;
        setLedger({ page, failed: false, asOf: cached ? new Date(date) : null });
        prefetchBatchPages(page.results);
        if (cached && navigator.onLine)
          retry = window.setTimeout(() => setRetries((count) => count + 1), RETRY_CACHED_MS);
      })
      .catch(() => !stale && setLedger((current) => ({ ...current, failed: true })));
    return () => {
      stale = true;
      window.clearTimeout(retry);
    };
  }, [enabled, deliveries, online, retries]);

  return ledger;
}

function formatAsOf(date: Date): string {
  const today = date.toDateString() === new Date().toDateString();
  return today
    ? date.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" })
    : date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function LedgerList({ ledger }: { ledger: Ledger }) {
  const { page, failed, asOf } = ledger;
  return (
    <section className={styles.panel} aria-labelledby="synced-heading">
      <h2 id="synced-heading">On the ledger</h2>
      {asOf && (
        <p className={styles.muted} data-testid="ledger-as-of">
          Saved copy, as of {formatAsOf(asOf)}: changes since then show once the phone is online.
        </p>
      )}
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

/** "2", "3 files", "2 batches and 3 files": what waits, in the sync line's words. */
function waitingWords(batches: number, files: number): string {
  if (files === 0) return String(batches);
  return batches === 0 ? plural(files, "file") : `${plural(batches, "batch", "batches")} and ${plural(files, "file")}`;
}

export function Dashboard() {
  const { session, pending, files, outboxRead, online, syncing, needsSignIn, syncNow } = useFarmer();
  const ledger = useLedger(session !== null);
  const tokens = useMemo(
    () => new Map(ledger.page?.results.map((batch) => [batch.clientId, batch.tokenId])),
    [ledger.page],
  );
  // A batch whose reply was lost is on the ledger already: it is shown there, and leaves the outbox.
  const onPhone = pending.filter((batch) => !tokens.has(batch.clientId));
  const deliveredJson = JSON.stringify(
    pending
      .filter((batch) => tokens.has(batch.clientId))
      .map((batch) => ({ clientId: batch.clientId, tokenId: tokens.get(batch.clientId) })),
  );
  useEffect(() => {
    const delivered = JSON.parse(deliveredJson) as { clientId: string; tokenId: number }[];
    if (delivered.length === 0) return;
    // Its files learn the token id before the batch leaves the outbox, as when a replay delivers it.
    void assignTokens(delivered).then(() => resolveDelivered(delivered.map((batch) => batch.clientId)));
  }, [deliveredJson]);

  const waiting = onPhone.filter((batch) => batch.status === "pending").length;
  const filesWaiting = files.filter((file) => file.status === "pending").length;
  const attention = onPhone.length - waiting + files.length - filesWaiting;
  const anyWaiting = waitingWords(waiting, filesWaiting);

  return (
    <main id="main" tabIndex={-1} className={styles.page}>
      <h1>Your batches</h1>
      <section className={styles.panel} aria-labelledby="sync-heading">
        <h2 id="sync-heading">Sync</h2>
        <p data-testid="sync-state" className={`${styles.syncState} ${needsSignIn ? styles.error : styles.muted}`}>
          {needsSignIn
            ? "Your session has ended: sign in again to send the waiting batches."
            : !outboxRead
              ? "Checking this phone…"
              : !online
                ? `Offline. ${waiting || filesWaiting ? `${anyWaiting} saved on this phone, sent when you are back online.` : "Nothing waiting."}`
                : syncing
                  ? "Sending…"
                  : waiting || filesWaiting
                    ? `${anyWaiting} waiting to be sent.`
                    : attention
                      ? `${attention} not accepted by the server: fix, export or discard ${attention === 1 ? "it" : "them"} below.`
                      : "Everything saved on this phone has reached the ledger."}
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
            onClick={() => void downloadOutbox(onPhone, files)}
            disabled={onPhone.length === 0 && files.length === 0}
          >
            Export unsynced (JSON)
          </button>
        </div>
      </section>
      {/* Rendered together once the outbox is read: content that appears below moves nothing already shown. */}
      {outboxRead && (
        <>
          <OutboxList batches={onPhone} />
          {files.length > 0 && (
            <section className={styles.panel} aria-labelledby="files-heading">
              <h2 id="files-heading">Photos and certificates on this phone</h2>
              <WaitingFiles files={files} showBatch />
            </section>
          )}
          {session === null ? (
            <p className={styles.panel}>
              You are not signed in. <a href="/signin?next=/farmer">Sign in with your wallet</a> once while online;
              after that the app works without signal.
            </p>
          ) : (
            <LedgerList ledger={ledger} />
          )}
        </>
      )}
    </main>
  );
}
