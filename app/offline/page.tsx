import type { Metadata } from "next";

export const metadata: Metadata = { title: "Offline" };

/** What the service worker shows for a page it has neither on the network nor in its caches. */
export default function OfflinePage() {
  return (
    <main>
      <section className="hero">
        <h1>You are offline</h1>
        <p>
          This page has not been saved on this device yet. Batches you log in the farmer app are kept on the phone and
          sent when the signal is back.
        </p>
        <p>
          <a href="/farmer">Open your batches</a> · <a href="/farmer/new">Log a new batch</a>
        </p>
      </section>
    </main>
  );
}
