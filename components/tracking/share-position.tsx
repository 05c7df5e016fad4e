"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import type { ErrorBody } from "@/lib/api/errors";
import { FIX_EVERY_MS, type PhoneFix, worthKeeping } from "@/lib/tracking/keep-fix";
import { dropFixes, queueFix, waitingCount, waitingFixes } from "@/lib/tracking/position-queue";
import styles from "./share-position.module.css";

const MAX_FIXES_PER_POST = 100;

type Answer = { accepted: number; rejected: { index: number; reason: string }[] };

/**
 * "Share my position" on the transporter's phone. Browsers give a web app positions only while it is visible, so
 * fixes are taken while the page is in front (the screen kept on where the browser allows), one per ~5 s or 25 m,
 * kept in IndexedDB and sent at most once per 5 s, all that waited in one batch when the phone is back online.
 */
export function SharePosition() {
  const [sharing, setSharing] = useState(false);
  const [visible, setVisible] = useState(true);
  const [waiting, setWaiting] = useState(0);
  const [note, setNote] = useState("");
  const sending = useRef(false);
  const nextSendAt = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const send = useCallback(async function send(): Promise<void> {
    if (sending.current) return;
    const wait = nextSendAt.current - Date.now();
    if (wait > 0) {
      clearTimeout(timer.current);
      timer.current = setTimeout(() => void send(), wait);
      return;
    }
    const { keys, fixes } = await waitingFixes(MAX_FIXES_PER_POST);
    if (!fixes.length || !navigator.onLine) return;
    sending.current = true;
    try {
      const response = await fetch("/api/transporters/me/positions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ fixes }),
      });
      nextSendAt.current = Date.now() + FIX_EVERY_MS;
      if (response.status === 200) {
        await dropFixes(keys);
        const answer = (await response.json()) as Answer;
        setNote(
          answer.rejected.length
            ? `${answer.rejected.length} position(s) not used: ${[...new Set(answer.rejected.map((one) => one.reason.replaceAll("_", " ")))].join(", ")}.`
            : "",
        );
      } else if (response.status === 429 || response.status >= 500) {
        nextSendAt.current = Date.now() + 1000 * Number(response.headers.get("retry-after") ?? 5);
      } else {
        // The server will never take these (no shipment in transit, signed out): keeping them would block the rest.
        await dropFixes(keys);
        setNote(((await response.json().catch(() => null)) as ErrorBody | null)?.error.message ?? "Not sent.");
      }
    } catch {
      // Offline or the network dropped: they stay and go with the next batch.
    } finally {
      sending.current = false;
      setWaiting(await waitingCount());
    }
    if ((await waitingCount()) > 0) void send();
  }, []);

  useEffect(() => {
    const onVisibility = () => setVisible(document.visibilityState === "visible");
    const onOnline = () => void send();
    document.addEventListener("visibilitychange", onVisibility);
    window.addEventListener("online", onOnline);
    void waitingCount().then(setWaiting);
    void send();
    return () => {
      document.removeEventListener("visibilitychange", onVisibility);
      window.removeEventListener("online", onOnline);
      clearTimeout(timer.current);
    };
  }, [send]);

  useEffect(() => {
    if (!sharing || !visible) return;
    let last: PhoneFix | null = null;
    const watch = navigator.geolocation.watchPosition(
      (position) => {
        const fix = {
          lat: position.coords.latitude,
          lng: position.coords.longitude,
          accuracy: position.coords.accuracy,
          time: new Date(position.timestamp).toISOString(),
        };
        if (!worthKeeping(last, fix)) return;
        last = fix;
        void queueFix(fix)
          .then(() => waitingCount())
          .then((count) => {
            setWaiting(count);
            return send();
          });
      },
      (error) =>
        setNote(
          error.code === error.PERMISSION_DENIED
            ? "This browser may not use your location: allow it in the site's settings."
            : "No position yet: looking for a signal.",
        ),
      { enableHighAccuracy: true, maximumAge: FIX_EVERY_MS, timeout: 60_000 },
    );
    let lock: WakeLockSentinel | undefined;
    navigator.wakeLock
      ?.request("screen")
      .then((sentinel) => {
        lock = sentinel;
      })
      .catch(() => undefined);
    return () => {
      navigator.geolocation.clearWatch(watch);
      void lock?.release();
    };
  }, [sharing, visible, send]);

  return (
    <div className={styles.share}>
      <button type="button" className={styles.primary} aria-pressed={sharing} onClick={() => setSharing((on) => !on)}>
        {sharing ? "Stop sharing my position" : "Share my position"}
      </button>
      <p aria-live="polite" data-testid="share-status">
        {!sharing
          ? "Not sharing: the people waiting for these batches see the last position you sent."
          : visible
            ? "Sharing while this page is open. Keep it in front: browsers stop giving positions to pages in the background."
            : "Paused while the page is in the background: watchers see a gap until you come back."}
      </p>
      <p data-testid="share-waiting">
        {waiting ? `${waiting} position(s) waiting to be sent` : "Nothing waiting to be sent"}
      </p>
      {note && <p className={styles.note}>{note}</p>}
    </div>
  );
}
