"use client";

import { useEffect, useRef, useState } from "react";
import { Workbox } from "workbox-window";
import { SERVICE_WORKER_URL } from "@/lib/offline/worker-messages";

const UPDATE_CHECK_MS = 30 * 60_000;

/**
 * Registers the worker. A new version waits (it never swaps itself in under an open form); `applyUpdate`
 * lets it take over and reloads once it controls the page. Forms keep their drafts, so the reload loses nothing.
 */
export function useAppUpdate(): { updateReady: boolean; applyUpdate: () => void } {
  const workbox = useRef<Workbox | null>(null);
  const [updateReady, setUpdateReady] = useState(false);

  useEffect(() => {
    if (!("serviceWorker" in navigator)) return;
    const wb = new Workbox(SERVICE_WORKER_URL);
    workbox.current = wb;
    wb.addEventListener("waiting", () => setUpdateReady(true));
    void wb.register();
    const check = () => {
      if (document.visibilityState === "visible" && navigator.onLine) void wb.update();
    };
    const timer = window.setInterval(check, UPDATE_CHECK_MS);
    document.addEventListener("visibilitychange", check);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener("visibilitychange", check);
    };
  }, []);

  const applyUpdate = () => {
    const wb = workbox.current;
    if (!wb) return;
    wb.addEventListener("controlling", () => window.location.reload());
    wb.messageSkipWaiting();
  };

  return { updateReady, applyUpdate };
}
