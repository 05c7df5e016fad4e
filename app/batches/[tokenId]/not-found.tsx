import Link from "next/link";

export default function BatchNotFound() {
  return (
    <main id="main" tabIndex={-1}>
      <section className="hero">
        <h1>Batch not found</h1>
        <p>
          There is no crop batch with that token id. Check the number on the label, or{" "}
          <Link href="/">go back to GreenLedger</Link>.
        </p>
      </section>
    </main>
  );
}
