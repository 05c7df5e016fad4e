import type { PendingFile } from "@/lib/offline/file-outbox-state";
import type { PendingBatch } from "@/lib/offline/outbox-state";
import type { UserDto } from "@/lib/users/sign-in-user";
import styles from "./farmer.module.css";

const shortAddress = (address: string) => `${address.slice(0, 6)}…${address.slice(-4)}`;

function Account({ session, online }: { session: UserDto | null | undefined; online: boolean }) {
  if (session === undefined) return <span className={styles.muted}>Checking sign-in…</span>;
  if (session === null) {
    return online ? <a href="/signin?next=/farmer">Sign in</a> : <span>Not signed in</span>;
  }
  const label = `Signed in: ${shortAddress(session.address)}`;
  // The account page (sign out) is a wallet page: it cannot open without a connection.
  return online ? <a href="/signin">{label}</a> : <span>{label}</span>;
}

/**
 * The farmer app's one header: connection, what is still on the phone, and the account. Its rows have fixed
 * heights, so the states that arrive after hydration (session, outbox count, connection) never move the page.
 */
export function FarmerHeader({
  session,
  online,
  outbox,
}: {
  session: UserDto | null | undefined;
  online: boolean;
  /** null until the outbox has been read. */
  outbox: { batches: PendingBatch[]; files: PendingFile[] } | null;
}) {
  // Batches and files in one count: the pill must fit a phone's width; the dashboard says which are which.
  const waiting = [...(outbox?.batches ?? []), ...(outbox?.files ?? [])];
  const attention = waiting.filter((item) => item.status === "needs-attention").length;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className={styles.bar}>
        <div className={styles.barRow}>
          <a href="/farmer" className={styles.brand}>
            GreenLedger
          </a>
          <span className={online ? styles.online : styles.offline} data-testid="connection">
            {online ? "Online" : "Offline"}
          </span>
          <a
            href="/farmer"
            className={waiting.length ? styles.countWaiting : styles.countDone}
            data-testid="unsynced-count"
          >
            {!outbox ? "Checking this phone…" : waiting.length === 0 ? "All synced" : `${waiting.length} unsynced`}
            {attention > 0 && ` · ${attention} to fix`}
          </a>
        </div>
        <nav aria-label="Site" className={styles.nav}>
          <ul>
            {/* Offline the header offers only the app's own pages: the others would open the offline page. */}
            {online && (
              <>
                <li>
                  <a href="/marketplace">Marketplace</a>
                </li>
                <li>
                  <a href="/analytics">Analytics</a>
                </li>
              </>
            )}
            <li className={styles.account} data-testid="account">
              <Account session={session} online={online} />
            </li>
          </ul>
        </nav>
      </header>
    </>
  );
}
