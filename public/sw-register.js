// The verify page has no client component of its own, so no bundle to register from: this plain script registers the
// app's service worker and asks it to keep this page, so a label scanned once opens again without signal (see
// workers/sw.ts, PREFETCH_ROUTES).
if ("serviceWorker" in navigator) {
  navigator.serviceWorker
    .register("/sw.js")
    .then(() => navigator.serviceWorker.ready)
    .then((registration) => {
      registration.active?.postMessage({ type: "PREFETCH_ROUTES", routes: [window.location.pathname] });
    })
    .catch(() => {});
}
