"use client";

import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { type FormEvent, useEffect, useRef, useState, useTransition } from "react";
import { getAddress } from "viem";
import { type BatchAction, mayAct, nextState } from "@/lib/batches/lifecycle";
import type { OfferDto } from "@/lib/offers/offer-dto";
import type { UserDto } from "@/lib/users/sign-in-user";
import styles from "./wallet.module.css";

type EventBody =
  | { action: "inspect"; result: "conformant" | "non_conformant" }
  | { action: "recall"; reason: string }
  | { action: "ship"; transporter?: string }
  | { action: "receive" };

type ErrorBody = { error?: { message?: string; fields?: { path: string; message: string }[] } };

type Props = {
  /** From the session cookie, read by the server that rendered the page. */
  user: UserDto;
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

async function fetchOffers(tokenId: number): Promise<OfferDto[]> {
  const response = await fetch(`/api/crop-batches/${tokenId}/offers`, { cache: "no-store" });
  if (!response.ok) throw new Error(await errorMessage(response));
  return (await response.json()) as OfferDto[];
}

export function BatchActions({ user, tokenId, state, ownerAddress, custodianAddress }: Props) {
  const router = useRouter();
  const listed = nextState("sell", state) !== null;
  const owns = user.address === ownerAddress;
  const offers = useQuery({
    queryKey: ["offers", tokenId, user.address],
    queryFn: () => fetchOffers(tokenId),
    enabled: listed && (owns || user.role === "buyer"),
  });
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

  const allowed = (action: BatchAction) =>
    nextState(action, state) !== null && mayAct(action, user, { ownerAddress, custodianAddress });

  async function post(path: string, body: object, done: string) {
    setSubmitting(true);
    setOutcome(null);
    try {
      const response = await fetch(`/api/crop-batches/${tokenId}/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!response.ok) {
        setOutcome({ kind: "error", text: await errorMessage(response) });
        return;
      }
      setOutcome({ kind: "done", text: done });
      void offers.refetch();
      startRefresh(() => router.refresh());
    } catch {
      setOutcome({ kind: "error", text: "The server could not be reached. Check your connection and try again." });
    } finally {
      setSubmitting(false);
    }
  }

  const record = (body: EventBody, done: string) => post("events", body, done);

  function onOffer(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const note = String(new FormData(event.currentTarget).get("note") ?? "").trim();
    void post("offers", note ? { note } : {}, "Offer sent. The owner will see it on this page.");
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
  const mayOffer = listed && !owns && user.role === "buyer";
  const openOffers = offers.data?.filter((offer) => offer.status === "open") ?? [];
  const myOpenOffer = mayOffer ? openOffers[0] : undefined;

  return (
    <div className={styles.actions}>
      <p className={styles.muted}>
        Signed in as <code>{getAddress(user.address)}</code> ({user.role}).
      </p>
      {actions.length === 0 && !mayOffer && (
        <p>There is nothing your role can record for this batch in its current state.</p>
      )}
      {mayOffer && offers.isSuccess && !myOpenOffer && (
        <form onSubmit={onOffer}>
          <fieldset className={styles.group} disabled={busy}>
            <legend>Buy this batch</legend>
            <label htmlFor="offer-note">Note to the owner (optional)</label>
            <div className={styles.row}>
              <input id="offer-note" name="note" className={styles.input} maxLength={500} autoComplete="off" />
              <button type="submit" className={styles.primary}>
                Make an offer
              </button>
            </div>
          </fieldset>
        </form>
      )}
      {myOpenOffer && (
        <fieldset className={styles.group} disabled={busy}>
          <legend>Buy this batch</legend>
          <div className={styles.row}>
            <p className={styles.offerSent}>Offer sent; the owner has not decided yet.</p>
            <button
              type="button"
              className={styles.secondary}
              onClick={() => void post(`offers/${myOpenOffer.id}/withdraw`, {}, "Offer withdrawn.")}
            >
              Withdraw offer
            </button>
          </div>
        </fieldset>
      )}
      {listed && owns && offers.isSuccess && (
        <fieldset className={styles.group} disabled={busy}>
          <legend>Offers to buy</legend>
          {openOffers.length === 0 ? (
            <p className={styles.muted}>No open offers yet.</p>
          ) : (
            <ul className={styles.offers} aria-label="Open offers">
              {openOffers.map((offer) => (
                <li key={offer.id} className={styles.row}>
                  <span className={styles.offerText}>
                    <code>{offer.buyerAddress}</code>
                    {offer.note && <span className={styles.muted}> — {offer.note}</span>}
                  </span>
                  <button
                    type="button"
                    className={styles.primary}
                    aria-label={`Accept the offer from ${offer.buyerAddress}`}
                    onClick={() => void post(`offers/${offer.id}/accept`, {}, "Offer accepted: the batch is sold.")}
                  >
                    Accept
                  </button>
                </li>
              ))}
            </ul>
          )}
        </fieldset>
      )}
      {offers.isError && <p className={styles.error}>Offers could not be loaded: {offers.error.message}</p>}
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
