"use client";

import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import {
  discardBatchFiles,
  discardPendingFiles,
  listPendingFiles,
  moveBatchFiles,
  savePendingFiles,
} from "@/lib/offline/file-outbox";
import { type CapturedFile, type FileTarget, newPendingFile, type PendingFile } from "@/lib/offline/file-outbox-state";
import {
  discardPendingBatch,
  listPendingBatches,
  onOutboxChange,
  replacePendingBatch,
  SYNC_TAG,
  savePendingBatch,
} from "@/lib/offline/outbox";
import { type BatchBody, newPendingBatch, type PendingBatch, resend } from "@/lib/offline/outbox-state";
import { replayOutbox } from "@/lib/offline/replay";
import { replayFiles } from "@/lib/offline/replay-files";
import { FARMER_API, PREFETCH_ROUTES, type PrefetchRoutesMessage } from "@/lib/offline/worker-messages";
import type { UserDto } from "@/lib/users/sign-in-user";
import styles from "./farmer.module.css";
import { FarmerHeader } from "./farmer-header";
import { useAppUpdate } from "./use-app-update";

export type NewBatch = Omit<BatchBody, "clientId">;

type FarmerContext = {
  /** Signed-in user; undefined while checking, null when signed out. Offline: the last one this phone saw. */
  session: UserDto | null | undefined;
  pending: PendingBatch[];
  /** Photos and certificates waiting on the phone (without their bytes). */
  files: PendingFile[];
  /** Bytes sent of the files uploading now, as tus reports them (the stored `sentBytes` lags a chunk behind). */
  progress: Record<string, number>;
  /** Files that left the phone while this page was open: the server has them, and is checking them. */
  uploaded: PendingFile[];
  /** False until the outbox (batches and files) has been read once: lists wait for it, so nothing moves. */
  outboxRead: boolean;
  online: boolean;
  syncing: boolean;
  /** The server answered 401 to a replay: the batches wait until the farmer signs in again. */
  needsSignIn: boolean;
  persisted: boolean | null;
  /** Bumped whenever a replay delivered something, so lists from the server reload. */
  deliveries: number;
  /** Keeps the batch, and the files picked for it, which wait for its token id. */
  save: (batch: NewBatch, files?: CapturedFile[]) => Promise<PendingBatch>;
  resendFixed: (rejected: PendingBatch, batch: NewBatch, files?: CapturedFile[]) => Promise<PendingBatch>;
  /** Discards a batch and the files waiting for it. */
  discard: (clientId: string) => Promise<void>;
  addFiles: (tokenId: number, files: CapturedFile[]) => Promise<void>;
  discardFile: (id: string) => Promise<void>;
  syncNow: () => void;
};

const Context = createContext<FarmerContext | null>(null);

export function useFarmer(): FarmerContext {
  const value = useContext(Context);
  if (!value) throw new Error("useFarmer needs <FarmerApp>");
  return value;
}

const SESSION_KEY = "greenledger:last-session";

async function loadSession(): Promise<UserDto | null> {
  try {
    const response = await fetch("/api/auth/session", { cache: "no-store" });
    if (response.status === 401) {
      localStorage.removeItem(SESSION_KEY);
      return null;
    }
    if (!response.ok) throw new Error(`session: ${response.status}`);
    const user = (await response.json()) as UserDto;
    localStorage.setItem(SESSION_KEY, JSON.stringify(user));
    return user;
  } catch {
    const saved = localStorage.getItem(SESSION_KEY);
    return saved ? (JSON.parse(saved) as UserDto) : null;
  }
}

/** On the first visit the page loads before the worker controls it: have the worker fetch the data itself. */
async function cacheFarmerData(): Promise<void> {
  const registration = await navigator.serviceWorker?.ready;
  const message: PrefetchRoutesMessage = { type: PREFETCH_ROUTES, routes: Object.values(FARMER_API) };
  registration?.active?.postMessage(message);
}

async function registerBackgroundSync(): Promise<void> {
  const registration = await navigator.serviceWorker?.ready;
  // Background Sync is Chromium-only; elsewhere the page's own replay (load, `online`, timer) delivers.
  const sync = (
    registration as (ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } }) | undefined
  )?.sync;
  await sync?.register(SYNC_TAG);
}

export function FarmerApp({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<UserDto | null | undefined>(undefined);
  const [pending, setPending] = useState<PendingBatch[]>([]);
  const [files, setFiles] = useState<PendingFile[]>([]);
  const [progress, setProgress] = useState<Record<string, number>>({});
  const [uploaded, setUploaded] = useState<PendingFile[]>([]);
  // Until the outbox has been read, "All synced" would be a claim the page cannot make yet.
  const [outboxRead, setOutboxRead] = useState(false);
  const [online, setOnline] = useState(true);
  const [syncing, setSyncing] = useState(false);
  const [needsSignIn, setNeedsSignIn] = useState(false);
  const [persisted, setPersisted] = useState<boolean | null>(null);
  const [deliveries, setDeliveries] = useState(0);
  const retryTimer = useRef<number | undefined>(undefined);
  const { updateReady, applyUpdate } = useAppUpdate();

  const refresh = useCallback(async () => {
    const [batches, waitingFiles] = await Promise.all([listPendingBatches(), listPendingFiles()]);
    setPending(batches);
    setFiles(waitingFiles);
    return { batches, files: waitingFiles };
  }, []);

  const replay = useCallback(
    async (ignoreBackoff: boolean) => {
      window.clearTimeout(retryTimer.current);
      if (!navigator.onLine) return;
      setSyncing(true);
      try {
        const result = await replayOutbox({ ignoreBackoff });
        setNeedsSignIn(result.signedOut);
        if (result.delivered > 0) setDeliveries((count) => count + 1);
        // Batches first: the files of a batch just delivered can go now.
        const sent = await replayFiles({
          ignoreBackoff,
          onProgress: (id, bytes) => setProgress((current) => ({ ...current, [id]: bytes })),
        });
        if (sent.signedOut) setNeedsSignIn(true);
        if (sent.delivered.length > 0) setUploaded((current) => [...current, ...sent.delivered]);
      } catch {
        // IndexedDB or the lock failed; the next trigger tries again.
      } finally {
        setSyncing(false);
        setProgress({});
      }
      const left = await refresh();
      // A file still waiting for its batch goes in the same run as the batch: it sets no timer of its own.
      const waiting = [...left.batches, ...left.files.filter((file) => file.tokenId !== null)].filter(
        (item) => item.status === "pending",
      );
      if (waiting.length === 0) return;
      const next = Math.min(...waiting.map((item) => item.nextAttemptAt));
      retryTimer.current = window.setTimeout(() => void replay(false), Math.max(next - Date.now(), 0) + 50);
    },
    [refresh],
  );

  useEffect(() => {
    setOnline(navigator.onLine);
    void loadSession().then((user) => {
      setSession(user);
      if (user && navigator.onLine) void cacheFarmerData();
    });
    // Both decide what the outbox section shows: it appears once, complete, instead of growing in steps.
    void Promise.all([navigator.storage?.persisted?.() ?? null, refresh()]).then(([kept]) => {
      setPersisted(kept);
      setOutboxRead(true);
    });
    void replay(false);
    const wentOnline = () => {
      setOnline(true);
      void loadSession().then(setSession);
      void replay(true);
    };
    const wentOffline = () => setOnline(false);
    window.addEventListener("online", wentOnline);
    window.addEventListener("offline", wentOffline);
    const stopListening = onOutboxChange(() => void refresh());
    return () => {
      window.removeEventListener("online", wentOnline);
      window.removeEventListener("offline", wentOffline);
      stopListening();
      window.clearTimeout(retryTimer.current);
    };
  }, [refresh, replay]);

  const afterSave = useCallback(async () => {
    await refresh();
    if (navigator.storage?.persist && !(await navigator.storage.persisted())) {
      setPersisted(await navigator.storage.persist());
    }
    await registerBackgroundSync().catch(() => {});
    void replay(false);
  }, [refresh, replay]);

  const keepFiles = useCallback(async (captured: CapturedFile[], target: FileTarget) => {
    const now = Date.now();
    const kept = captured.map((file) => ({
      file: newPendingFile(file, target, now, () => crypto.randomUUID()),
      bytes: file.bytes,
    }));
    await savePendingFiles(kept);
    return kept.map(({ file }) => file.id);
  }, []);

  const value = useMemo<FarmerContext>(
    () => ({
      session,
      pending,
      files,
      progress,
      uploaded,
      outboxRead,
      online,
      syncing,
      needsSignIn,
      persisted,
      deliveries,
      // Files before their batch, in both: a replay (the worker's, any time) that delivers the batch finds them.
      save: async (batch, captured = []) => {
        const saved = newPendingBatch(batch, Date.now(), () => crypto.randomUUID());
        const fileIds = await keepFiles(captured, { batchClientId: saved.clientId });
        await savePendingBatch(saved).catch(async (error: unknown) => {
          await discardPendingFiles(fileIds);
          throw error;
        });
        await afterSave();
        return saved;
      },
      resendFixed: async (rejected, batch, captured = []) => {
        const fixed = resend(rejected, batch, Date.now(), () => crypto.randomUUID());
        await moveBatchFiles(rejected.clientId, fixed.clientId);
        await keepFiles(captured, { batchClientId: fixed.clientId });
        await replacePendingBatch(rejected.clientId, fixed);
        await afterSave();
        return fixed;
      },
      discard: async (clientId) => {
        await discardBatchFiles(clientId);
        await discardPendingBatch(clientId);
        await refresh();
      },
      addFiles: async (tokenId, captured) => {
        await keepFiles(captured, { tokenId });
        await afterSave();
      },
      discardFile: async (id) => {
        await discardPendingFiles([id]);
        await refresh();
      },
      syncNow: () => void replay(true),
    }),
    [
      session,
      pending,
      files,
      progress,
      uploaded,
      outboxRead,
      online,
      syncing,
      needsSignIn,
      persisted,
      deliveries,
      afterSave,
      keepFiles,
      refresh,
      replay,
    ],
  );

  return (
    <Context.Provider value={value}>
      <FarmerHeader session={session} online={online} outbox={outboxRead ? { batches: pending, files } : null} />
      {updateReady && (
        <div className={styles.update} role="status">
          <span>A new version of the app is ready.</span>
          <button type="button" className={styles.primary} onClick={applyUpdate}>
            Reload to update
          </button>
        </div>
      )}
      {children}
    </Context.Provider>
  );
}
