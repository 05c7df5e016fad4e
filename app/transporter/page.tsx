import type { Metadata } from "next";
import Link from "next/link";
import { SharePosition } from "@/components/tracking/share-position";
import { signedInUser } from "@/lib/auth/signed-in-user";
import { listShipments } from "@/lib/tracking/list-shipments";

export const metadata: Metadata = { title: "Your shipments" };

export default async function TransporterPage() {
  const user = await signedInUser();
  if (user?.role !== "transporter") {
    return (
      <main id="main" tabIndex={-1}>
        <header className="page-header">
          <h1>Your shipments</h1>
        </header>
        <p>
          {user ? "This page is for transporters. " : ""}
          <Link href={`/signin?next=${encodeURIComponent("/transporter")}`}>Sign in with a transporter's wallet</Link>{" "}
          to see the batches you carry and share where they are.
        </p>
      </main>
    );
  }
  const shipments = await listShipments(user.address);
  return (
    <main id="main" tabIndex={-1}>
      <header className="page-header">
        <h1>Your shipments</h1>
        <p>
          {shipments.length
            ? `You carry ${shipments.length} batch${shipments.length === 1 ? "" : "es"} in transit.`
            : "You carry no batch in transit right now."}
        </p>
      </header>
      {shipments.length > 0 && (
        <>
          <section className="card" aria-labelledby="share-heading">
            <h2 id="share-heading">Your position</h2>
            <SharePosition />
          </section>
          <section className="card" aria-labelledby="shipments-heading">
            <h2 id="shipments-heading">In transit</h2>
            <ul>
              {shipments.map((shipment) => (
                <li key={shipment.tokenId}>
                  <Link href={`/batches/${shipment.tokenId}`}>
                    Batch #{shipment.tokenId}: {shipment.cropType}
                    {shipment.variety ? ` (${shipment.variety})` : ""}
                  </Link>{" "}
                  from {shipment.from}
                </li>
              ))}
            </ul>
          </section>
        </>
      )}
    </main>
  );
}
