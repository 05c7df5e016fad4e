// The verify page has no client component of its own, so no bundle to register from: this plain script registers the
// app's service worker and asks it to keep this page, so a label scanned once opens again without signal (see
// workers/sw.ts, PREFETCH_ROUTES). Only after the page has loaded: a first scan installs the worker and precaches
// the app shell, which otherwise competed with the verdict's own scripts for the phone's CPU.
function register() {
  navigator.serviceWorker
    .register("/sw.js")
    .then(() => navigator.serviceWorker.ready)
    .then((registration) => {
      registration.active?.postMessage({ type: "PREFETCH_ROUTES", routes: [window.location.pathname] });
    })
    .catch(() => {});
}

if ("serviceWorker" in navigator) {
  if (document.readyState === "complete") register();
  else window.addEventListener("load", register, { once: true });
}
