"use client";

import { ConnectButton } from "@rainbow-me/rainbowkit";
import Link from "next/link";
import { getAddress } from "viem";
import { useSession, useSignOut } from "@/components/wallet-providers";
import { countPendingBatches } from "@/lib/offline/outbox";
import { API_CACHE } from "@/lib/offline/worker-messages";
import styles from "./wallet.module.css";

export function SignInPanel({ next }: { next: string }) {
  const session = useSession();
  const signOut = useSignOut();

  // Batches saved offline are sent with this session: signing out strands them until the farmer signs in again.
  const confirmSignOut = async () => {
    const unsynced = await countPendingBatches().catch(() => 0);
    const warning = `${unsynced} batch${unsynced === 1 ? " is" : "es are"} saved on this device but not synced yet. They stay here and are sent after you sign in again with this wallet. Sign out anyway?`;
    if (unsynced > 0 && !window.confirm(warning)) return;
    await signOut();
    await globalThis.caches?.delete(API_CACHE);
  };

  return (
    <section className={styles.panel} aria-labelledby="wallet-heading">
      <h2 id="wallet-heading">Your wallet</h2>
      <ConnectButton showBalance={false} chainStatus="icon" accountStatus="address" />
      <div aria-live="polite" className={styles.session}>
        {session.isPending ? (
          <p className={styles.muted}>Checking whether you are signed in…</p>
        ) : session.data ? (
          <>
            <p className={styles.success}>You are signed in.</p>
            <dl className={styles.facts}>
              <dt>Address</dt>
              <dd>
                <code data-testid="session-address">{getAddress(session.data.address)}</code>
              </dd>
              <dt>Role</dt>
              <dd data-testid="session-role">{session.data.role}</dd>
            </dl>
            <div className={styles.row}>
              <Link className={styles.primaryLink} href={next}>
                Continue
              </Link>
              <button type="button" className={styles.secondary} onClick={() => void confirmSignOut()}>
                Sign out
              </button>
            </div>
          </>
        ) : (
          <p className={styles.muted}>
            Not signed in. Connect a wallet, then sign the message it shows you: signing costs nothing and sends no
            transaction.
          </p>
        )}
      </div>
    </section>
  );
}
