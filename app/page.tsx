import Link from "next/link";
import { getHomeStats } from "@/lib/batches/get-home-stats";

export const dynamic = "force-dynamic";

export default async function HomePage() {
  const stats = await getHomeStats();
  return (
    <main id="main" tabIndex={-1}>
      <section className="hero">
        <h1>GreenLedger</h1>
        <p>
          Every crop batch recorded from the field to the plate: logged by the farmer, carried by the transporter,
          bought on the marketplace and verified by anyone who scans its label.
        </p>
      </section>
      <section className="stats" aria-label="Ledger at a glance">
        <div className="stat">
          <strong>{stats.batches.toLocaleString("en")}</strong> crop batches
        </div>
        <div className="stat">
          <strong>{stats.farms.toLocaleString("en")}</strong> farms
        </div>
        <div className="stat">
          <strong>{stats.events.toLocaleString("en")}</strong> custody events
        </div>
      </section>
      <section className="cards">
        <article className="card">
          <h2>Verify a batch</h2>
          <p>
            Scanned a label? The QR code opens its verification, for example <Link href="/verify/1">batch 1</Link>.
          </p>
        </article>
        <article className="card">
          <h2>For buyers</h2>
          <p>
            Search the <Link href="/marketplace">marketplace</Link> by crop, certification, quality and harvest date,
            and follow the <Link href="/analytics">crop analytics</Link>.
          </p>
        </article>
        <article className="card">
          <h2>For farmers</h2>
          <p>Log batches in the field, even with no signal; they sync when you are back online.</p>
        </article>
      </section>
    </main>
  );
}
