import type { Metadata } from "next";
import Link from "next/link";
import styles from "@/components/operations/operations.module.css";
import { OperationsReportView } from "@/components/operations/operations-report";
import { signedInUser } from "@/lib/auth/signed-in-user";
import { getOperationsReport } from "@/lib/observability/get-operations-report";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Operations" };

export default async function OperationsPage() {
  const user = await signedInUser();
  if (user?.role !== "admin") {
    return (
      <main id="main" tabIndex={-1}>
        <header className="page-header">
          <h1>Operations</h1>
        </header>
        <p>
          {user ? "This page is for admins. " : ""}
          <Link href={`/signin?next=${encodeURIComponent("/operations")}`}>Sign in with an admin's wallet</Link> to see
          the SLAs, their burn rates and the alerts.
        </p>
      </main>
    );
  }
  const report = await getOperationsReport();
  return (
    <main id="main" tabIndex={-1} className={styles.page}>
      <header className="page-header">
        <h1>Operations</h1>
        <p>
          Each SLA's latency against its bound, how fast it burns its error budget, the alerts this raises, and the
          performance budget each operation is held to.
        </p>
      </header>
      {report ? (
        <OperationsReportView report={report} />
      ) : (
        <p>No SLA monitor runs in this process: it starts with the web role of server.ts.</p>
      )}
    </main>
  );
}
