import { headers } from "next/headers";
import { notFound } from "next/navigation";
import { after } from "next/server";
import { cache } from "react";
import { PhotoGrid } from "@/components/attachments/photo-grid";
import { ApiError } from "@/lib/api/errors";
import { STATE_LABELS, STEP_LABELS } from "@/lib/batches/labels";
import { IN_TRANSIT } from "@/lib/batches/lifecycle";
import { CLIENT_ADDRESS_HEADER } from "@/lib/scans/client-address";
import { getScanStatus } from "@/lib/scans/get-scan-status";
import { networkPrefix } from "@/lib/scans/network-prefix";
import { recordScan } from "@/lib/scans/record-scan";
import { type PublicTrail, publicTrail } from "@/lib/tracking/public-trail";
import { getVerification, type Verification, type VerifiedCertificate } from "@/lib/verify/get-verification";
import styles from "./verification-view.module.css";

const dateFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeZone: "UTC" });
const dateTimeFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

type Verdict = { tone: "good" | "neutral" | "bad" | "recalled"; title: string; detail: string };

function verdictOf(verification: Verification): Verdict {
  switch (verification.status) {
    case "verified":
      return {
        tone: "good",
        title: "Verified",
        detail: "This record is intact and matches what is written on the blockchain.",
      };
    case "pending":
      return {
        tone: "neutral",
        title: "Pending: not yet anchored on chain",
        detail:
          "The record is intact, but it has not been written to the blockchain yet, so it cannot be checked against it. New batches are usually anchored within minutes.",
      };
    case "mismatch":
      return {
        tone: "bad",
        title: "Not verified",
        detail:
          "The blockchain disagrees with this record: its fingerprint, owner or state differ from what was anchored.",
      };
    case "tampered":
      return {
        tone: "bad",
        title: "Not verified",
        detail: "This record was changed after it was written: it no longer matches its own fingerprint.",
      };
    case "recalled":
      return {
        tone: "recalled",
        title: "Recalled",
        detail: "This batch has been recalled. Do not eat it; return it to the shop or throw it away.",
      };
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function place(readPoint: string | null): string | null {
  const match = readPoint?.match(/^geo:(-?[\d.]+),(-?[\d.]+)$/);
  return match ? `near ${match[1]}, ${match[2]}` : null;
}

function yesNo(value: boolean | null): string {
  return value === null ? "Not stated" : value ? "Yes" : "No";
}

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

function TimelineItem({ entry }: { entry: Verification["timeline"][number] }) {
  const where = place(entry.readPoint);
  return (
    <li>
      <strong>
        {entry.certificateIssuer
          ? `Certificate recorded (${entry.certificateIssuer})`
          : (STEP_LABELS[entry.bizStep] ?? entry.bizStep)}
      </strong>
      <span className={styles.meta}>
        <time dateTime={entry.eventTime}>{dateTimeFormat.format(new Date(entry.eventTime))} UTC</time>
        {where && ` · ${where}`}
      </span>
      <span className={styles.meta}>Batch {STATE_LABELS[entry.stateName].toLowerCase()}</span>
    </li>
  );
}

function Proof({ verification }: { verification: Verification }) {
  const { proof } = verification;
  const { chain } = proof;
  const rows: { label: string; value: string | number | null; why: string }[] = [
    {
      label: "Record hash",
      value: proof.recordHash,
      why: "The fingerprint (SHA-256) taken of the record when the farmer logged it.",
    },
    {
      label: "Computed hash",
      value: proof.computedHash,
      why: "The same fingerprint computed again now from the stored record; it must equal the record hash.",
    },
    { label: "Chain id", value: chain.chainId, why: "Which blockchain network the record is anchored on." },
    { label: "Contract", value: chain.contract, why: "The address of the smart contract that holds every batch." },
    {
      label: "Token id",
      value: chain.tokenId,
      why: "This batch's number in that contract; it is the number on the label.",
    },
    {
      label: "Mint transaction",
      value: chain.txHash,
      why: "The blockchain transaction that first wrote this batch's fingerprint.",
    },
    { label: "Block", value: chain.blockNumber, why: "The block of the chain that transaction was included in." },
  ];
  return (
    <dl className={styles.proof}>
      {rows.map((row) => (
        <div key={row.label}>
          <dt>{row.label}</dt>
          <dd>
            <code>{row.value ?? "Not yet on chain"}</code>
            <span className={styles.why}>{row.why}</span>
          </dd>
        </div>
      ))}
    </dl>
  );
}

function Certificate({ certificate, today }: { certificate: VerifiedCertificate; today: string }) {
  const expired = certificate.validUntil < today;
  return (
    <li>
      <strong>{certificate.scope}</strong>
      <span className={styles.meta}>
        {certificate.issuer} · No. {certificate.number}
      </span>
      <span className={expired ? styles.expired : styles.meta}>
        {expired ? "Expired: valid " : "Valid "}
        <time dateTime={certificate.validFrom}>
          {dateFormat.format(new Date(`${certificate.validFrom}T00:00:00Z`))}
        </time>
        {" to "}
        <time dateTime={certificate.validUntil}>
          {dateFormat.format(new Date(`${certificate.validUntil}T00:00:00Z`))}
        </time>
      </span>
      <span className={certificate.hashMatches ? styles.hashGood : styles.hashBad}>
        {certificate.hashMatches
          ? "File hash matches the recorded hash"
          : "File hash does not match the recorded hash: this file is not the one that was recorded"}
      </span>
      <code className={styles.hash}>{certificate.recordedHash}</code>
      <span className={certificate.eventIntact ? styles.meta : styles.hashBad}>
        {!certificate.eventIntact
          ? "The recorded certificate event does not match its own hash"
          : certificate.anchor
            ? `Its record is anchored on chain in block ${certificate.anchor.blockNumber}`
            : "Its record is being anchored on chain"}
      </span>
      <a href={certificate.fileUrl} download>
        Download the certificate (PDF)
      </a>
    </li>
  );
}

/** A batch on its way: where it has been, coarsely, and when the carrier last reported. */
function OnItsWay({ trail }: { trail: PublicTrail | null }) {
  const last = trail?.places.at(-1);
  return (
    <section aria-labelledby="on-its-way">
      <h2 id="on-its-way">On its way</h2>
      {last ? (
        <p>
          Last reported near {last.lat}, {last.lng} at{" "}
          <time dateTime={last.at}>{dateTimeFormat.format(new Date(last.at))} UTC</time>.
        </p>
      ) : (
        <p>No position to show yet.</p>
      )}
      {trail?.lastReportAt && trail.lastReportAt !== last?.at && (
        <p className={styles.meta}>
          Carrier's last report:{" "}
          <time dateTime={trail.lastReportAt}>{dateTimeFormat.format(new Date(trail.lastReportAt))} UTC</time>
        </p>
      )}
      {trail && trail.places.length > 1 && (
        <ol className={styles.timeline} aria-label="Places passed">
          {trail.places.map((place) => (
            <li key={place.at}>
              near {place.lat}, {place.lng} ·{" "}
              <time dateTime={place.at}>{dateTimeFormat.format(new Date(place.at))} UTC</time>
            </li>
          ))}
        </ol>
      )}
      <p className={styles.why}>
        Places are shown to about 10 km, and none near the farm, so the farm's location stays private.
      </p>
    </section>
  );
}

/**
 * Call from generateMetadata too: a notFound() thrown only while the page body renders leaves Next with an error
 * shell that needs JavaScript to show the not-found page; thrown from metadata, it is server-rendered with a 404.
 */
export const loadVerification = cache(async (tokenId: number): Promise<Verification> => {
  try {
    return await getVerification(tokenId);
  } catch (error) {
    if (error instanceof ApiError && error.code === "not_found") notFound();
    throw error;
  }
});

/** The consumer's verification of one batch: plain HTML, no client code, so it works on any phone. */
export async function VerificationView({ tokenId }: { tokenId: number }) {
  const [verification, scans, requestHeaders] = await Promise.all([
    loadVerification(tokenId),
    getScanStatus(tokenId),
    headers(),
  ]);
  const network = networkPrefix(requestHeaders.get(CLIENT_ADDRESS_HEADER));
  after(() => recordScan(tokenId, network));
  const verdict = verdictOf(verification);
  const { batch } = verification;
  const trail = batch.state === IN_TRANSIT ? await publicTrail(tokenId) : undefined;
  const today = new Date().toISOString().slice(0, 10);
  return (
    <main id="main" tabIndex={-1} className={styles.page}>
      <section className={`${styles.verdict} ${styles[verdict.tone]}`} aria-labelledby="verdict">
        <h1 id="verdict">{verdict.title}</h1>
        <p>{verdict.detail}</p>
        {verification.status === "recalled" && verification.recallReason && (
          <p className={styles.reason}>
            <strong>Reason:</strong> {verification.recallReason}
          </p>
        )}
      </section>

      {scans.flagged && (
        <section className={styles.warning} aria-labelledby="copy-warning">
          <h2 id="copy-warning">This label has been scanned in many places at once — it may be a copy</h2>
          <p>A genuine label is rarely scanned from so many different networks so quickly. Buy with care.</p>
        </section>
      )}

      <section aria-labelledby="batch">
        <h2 id="batch">
          {capitalize(batch.cropType)}
          {batch.variety && ` · ${batch.variety}`}
          <span className={styles.token}> batch #{tokenId}</span>
        </h2>
        <dl className={styles.facts}>
          <Fact label="Crop">{capitalize(batch.cropType)}</Fact>
          <Fact label="Variety">{batch.variety ?? "Not stated"}</Fact>
          <Fact label="Farm">
            {batch.farm.name}, {batch.farm.region}
          </Fact>
          <Fact label="Harvested">
            <time dateTime={batch.harvestDate}>{dateFormat.format(new Date(`${batch.harvestDate}T00:00:00Z`))}</time>
          </Fact>
          <Fact label="Quality">{batch.qualityScore} / 100</Fact>
          <Fact label="Certifications">
            {batch.certifications.length ? batch.certifications.join(", ") : "None stated"}
          </Fact>
          <Fact label="Organic">{yesNo(batch.organic)}</Fact>
          <Fact label="Grade">{batch.grade ?? "Not stated"}</Fact>
          <Fact label="Now">{STATE_LABELS[batch.stateName]}</Fact>
        </dl>
      </section>

      {trail !== undefined && <OnItsWay trail={trail} />}

      {verification.certificates.length > 0 && (
        <section aria-labelledby="certificates">
          <h2 id="certificates">Certificates</h2>
          <ul className={styles.certificates}>
            {verification.certificates.map((certificate) => (
              <Certificate key={certificate.fileUrl} certificate={certificate} today={today} />
            ))}
          </ul>
          <p className={styles.why}>
            Each certificate's fingerprint (SHA-256) was recorded in the batch's history when it was attached; the file
            offered here was fingerprinted again to check it is the same.
          </p>
        </section>
      )}

      {verification.photos.length > 0 && (
        <section aria-labelledby="photos">
          <h2 id="photos">Photos</h2>
          <PhotoGrid photos={verification.photos} of={`${capitalize(batch.cropType)} batch #${tokenId}`} />
        </section>
      )}

      <section aria-labelledby="journey">
        <h2 id="journey">Journey</h2>
        <ol className={styles.timeline}>
          {verification.timeline.map((entry) => (
            <TimelineItem key={entry.eventId} entry={entry} />
          ))}
        </ol>
      </section>

      <section aria-labelledby="proof">
        <h2 id="proof">Proof</h2>
        <p className={styles.why}>Anyone can check these values against the public blockchain.</p>
        <Proof verification={verification} />
      </section>
    </main>
  );
}
