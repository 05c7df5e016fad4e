"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useEffect, useRef, useState, useTransition } from "react";
import { getAddress } from "viem";
import { useSession } from "@/components/wallet-providers";
import { type BatchAction, mayAct, nextState } from "@/lib/batches/lifecycle";
import styles from "./wallet.module.css";

type EventBody =
  | { action: "inspect"; result: "conformant" | "non_conformant" }
  | { action: "recall"; reason: string }
  | { action: "ship"; transporter?: string }
  | { action: "receive" };

type ErrorBody = { error?: { message?: string; fields?: { path: string; message: string }[] } };

type Props = {
  tokenId: number;
  state: number;
  /** Lower-case, as sessions carry them. */
  ownerAddress: string;
  custodianAddress: string | null;
};

async function errorMessage(response: Response): Promise<string> {
  const body = (await response.json().catch(() => ({}))) as ErrorBody;
  const message = body.error?.message ?? `The server answered ${response.status}.`;
  const fields = body.error?.fields?.map((field) => `${field.path}: ${field.message}`) ?? [];
  return [message, ...fields].join(" ");
}

export function BatchActions({ tokenId, state, ownerAddress, custodianAddress }: Props) {
  const session = useSession();
  const router = useRouter();
  const [outcome, setOutcome] = useState<{ kind: "error" | "done"; text: string } | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [refreshing, startRefresh] = useTransition();
  const statusRef = useRef<HTMLParagraphElement>(null);
  const alertRef = useRef<HTMLParagraphElement>(null);
  const busy = submitting || refreshing;

  // The button that was pressed may be gone after the refresh: move focus to the outcome instead of the page top.
  useEffect(() => {
    if (outcome) (outcome.kind === "error" ? alertRef : statusRef).current?.focus();
  }, [outcome]);

  if (session.isPending) return <p className={styles.muted}>Checking whether you are signed in…</p>;
  const user = session.data;
  if (!user) {
    return (
      <p>
        <Link href={`/signin?next=${encodeURIComponent(`/batches/${tokenId}`)}`}>Sign in with your wallet</Link> to
        record an inspection, shipment or delivery for this batch.
      </p>
    );
  }

  const allowed = (action: BatchAction) =>
    nextState(action, state) !== null && mayAct(action, user, { ownerAddress, custodianAddress });

  async function record(body: EventBody, done: string) {
    setSubmitting(true);
    setOutcome(null);
    try {
      const response = await fetch(`/api/crop-batches/${tokenId}/events`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!response.ok) {
        setOutcome({ kind: "error", text: await errorMessage(response) });
        return;
      }
      setOutcome({ kind: "done", text: done });
      startRefresh(() => router.refresh());
    } catch {
      setOutcome({ kind: "error", text: "The server could not be reached. Check your connection and try again." });
    } finally {
      setSubmitting(false);
    }
  }

  function onShip(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const transporter = String(new FormData(event.currentTarget).get("transporter") ?? "").trim();
    void record({ action: "ship", ...(transporter ? { transporter } : {}) }, "Shipment recorded.");
  }

  function onRecall(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const reason = String(new FormData(event.currentTarget).get("reason") ?? "").trim();
    void record({ action: "recall", reason }, "Recall recorded.");
  }

  const actions = (["inspect", "ship", "receive", "recall"] as const).filter(allowed);

  return (
    <div className={styles.actions}>
      <p className={styles.muted}>
        Signed in as <code>{getAddress(user.address)}</code> ({user.role}).
      </p>
      {actions.length === 0 && <p>There is nothing your role can record for this batch in its current state.</p>}
      {actions.includes("inspect") && (
        <fieldset className={styles.group} disabled={busy}>
          <legend>Inspection result</legend>
          <div className={styles.row}>
            <button
              type="button"
              className={styles.primary}
              onClick={() => void record({ action: "inspect", result: "conformant" }, "Inspection recorded.")}
            >
              Inspect: conformant
            </button>
            <button
              type="button"
              className={styles.secondary}
              onClick={() => void record({ action: "inspect", result: "non_conformant" }, "Inspection recorded.")}
            >
              Inspect: non-conformant
            </button>
          </div>
        </fieldset>
      )}
      {actions.includes("ship") && (
        <form onSubmit={onShip}>
          <fieldset className={styles.group} disabled={busy}>
            <legend>Ship</legend>
            <label htmlFor="ship-transporter">Transporter address (optional)</label>
            <div className={styles.row}>
              <input
                id="ship-transporter"
                name="transporter"
                className={styles.input}
                placeholder="0x…"
                autoComplete="off"
                spellCheck={false}
              />
              <button type="submit" className={styles.primary}>
                Ship
              </button>
            </div>
          </fieldset>
        </form>
      )}
      {actions.includes("receive") && (
        <fieldset className={styles.group} disabled={busy}>
          <legend>Delivery</legend>
          <button
            type="button"
            className={styles.primary}
            onClick={() => void record({ action: "receive" }, "Delivery recorded.")}
          >
            Receive
          </button>
        </fieldset>
      )}
      {actions.includes("recall") && (
        <form onSubmit={onRecall}>
          <fieldset className={styles.group} disabled={busy}>
            <legend>Recall</legend>
            <label htmlFor="recall-reason">Reason</label>
            <div className={styles.row}>
              <input id="recall-reason" name="reason" className={styles.input} required maxLength={500} />
              <button type="submit" className={styles.danger}>
                Recall
              </button>
            </div>
          </fieldset>
        </form>
      )}
      <div className={styles.outcome}>
        <p ref={statusRef} tabIndex={-1} role="status" className={styles.success}>
          {busy ? "Saving…" : outcome?.kind === "done" && outcome.text}
        </p>
        <p ref={alertRef} tabIndex={-1} role="alert" className={styles.error}>
          {outcome?.kind === "error" && outcome.text}
        </p>
      </div>
    </div>
  );
}
