"use client";

import Link from "next/link";
import { lazy, Suspense, useCallback, useEffect, useRef, useState } from "react";
import { listPendingFiles } from "@/lib/offline/file-outbox";
import { countPendingBatches } from "@/lib/offline/outbox";
import { API_CACHE } from "@/lib/offline/worker-messages";
import type { UserDto } from "@/lib/users/sign-in-user";
import styles from "./wallet.module.css";

// RainbowKit, wagmi and viem are most of this page's code: they load when a visitor asks for a wallet, or when the
// wallet connected on an earlier visit has to reconnect, never as part of the first load.
const WalletConnection = lazy(() => import("@/components/wallet-providers"));

/** Set while a wallet is connected, so a returning visitor's wallet reconnects without a press. */
const WALLET_CONNECTED_KEY = "greenledger:wallet-connected";

type Props = { next: string; user: UserDto | null; publicBaseUrl: string };

export function SignInPanel({ next, user: signedIn, publicBaseUrl }: Props) {
  const [user, setUser] = useState(signedIn);
  // null: no wallet code yet; openModal: the visitor pressed "Connect Wallet", so the wallet list opens at once.
  const [wallet, setWallet] = useState<{ openModal: boolean } | null>(null);
  const disconnect = useRef<(() => Promise<void>) | null>(null);

  useEffect(() => {
    if (localStorage.getItem(WALLET_CONNECTED_KEY) === null) return;
    const reconnect = () => setWallet((current) => current ?? { openModal: false });
    const idle = window.requestIdleCallback?.(reconnect) ?? window.setTimeout(reconnect);
    return () => (window.cancelIdleCallback ?? window.clearTimeout)(idle);
  }, []);

  const onConnection = useCallback((disconnectWallet: (() => Promise<void>) | null) => {
    disconnect.current = disconnectWallet;
    if (disconnectWallet) localStorage.setItem(WALLET_CONNECTED_KEY, "1");
    else localStorage.removeItem(WALLET_CONNECTED_KEY);
  }, []);

  const endSession = useCallback(async () => {
    await fetch("/api/auth/logout", { method: "POST" });
    setUser(null);
  }, []);

  // Batches saved offline are sent with this session: signing out strands them until the farmer signs in again.
  const confirmSignOut = async () => {
    const batches = await countPendingBatches().catch(() => 0);
    const files = (await listPendingFiles().catch(() => [])).length;
    const waiting = [
      batches ? `${batches} batch${batches === 1 ? "" : "es"}` : "",
      files ? `${files} file${files === 1 ? "" : "s"}` : "",
    ].filter(Boolean);
    const warning = `${waiting.join(" and ")} ${batches + files === 1 ? "is" : "are"} saved on this device but not synced yet. They stay here and are sent after you sign in again with this wallet. Sign out anyway?`;
    if (batches + files > 0 && !window.confirm(warning)) return;
    // Disconnecting a wallet makes RainbowKit call the adapter's signOut, which ends the session.
    await (disconnect.current ?? endSession)();
    await globalThis.caches?.delete(API_CACHE);
  };

  const connectButton = (
    <button type="button" className={styles.connect} onClick={() => setWallet({ openModal: true })}>
      Connect Wallet
    </button>
  );

  return (
    <section className={styles.panel} aria-labelledby="wallet-heading">
      <h2 id="wallet-heading">Your wallet</h2>
      <div className={styles.wallet}>
        {wallet ? (
          <Suspense fallback={connectButton}>
            <WalletConnection
              publicBaseUrl={publicBaseUrl}
              signedIn={user !== null}
              openModal={wallet.openModal}
              onSignedIn={setUser}
              onSignedOut={endSession}
              onConnection={onConnection}
            />
          </Suspense>
        ) : (
          connectButton
        )}
      </div>
      <div aria-live="polite" className={styles.session}>
        {user ? (
          <>
            <p className={styles.success}>You are signed in.</p>
            <dl className={styles.facts}>
              <dt>Address</dt>
              <dd>
                <code data-testid="session-address">{user.address}</code>
              </dd>
              <dt>Role</dt>
              <dd data-testid="session-role">{user.role}</dd>
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
