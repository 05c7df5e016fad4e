import type { Metadata } from "next";
import Link from "next/link";
import { PhotoGrid } from "@/components/attachments/photo-grid";
import { BatchActionsIsland } from "@/components/batch-actions-island";
import { LiveMap } from "@/components/tracking/live-map";
import { BatchQr } from "@/components/verify/batch-qr";
import { listAttachments } from "@/lib/attachments/list-attachments";
import { signedInUser } from "@/lib/auth/signed-in-user";
import type { TimelineEntry } from "@/lib/batches/batch-dto";
import { STATE_LABELS, STEP_LABELS, UNIT_LABELS } from "@/lib/batches/labels";
import { loadBatchPage } from "@/lib/batches/load-batch-page";
import { env } from "@/lib/env.mjs";
import { mayWatch } from "@/lib/tracking/may-watch";
import styles from "./batch.module.css";

type Props = { params: Promise<{ tokenId: string }> };

const dateFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeZone: "UTC" });
const dateTimeFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function certificationsOf(metadata: Record<string, unknown>): string[] {
  const value = metadata.certifications;
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

function TimelineItem({ entry }: { entry: TimelineEntry }) {
  return (
    <li>
      <strong>{STEP_LABELS[entry.bizStep] ?? entry.bizStep}</strong>
      <span className={styles.meta}>
        <time dateTime={entry.eventTime}>{dateTimeFormat.format(new Date(entry.eventTime))} UTC</time> · step{" "}
        <code>{entry.bizStep}</code> · {entry.disposition.replaceAll("_", " ")} · batch{" "}
        {STATE_LABELS[entry.stateName].toLowerCase()}
      </span>
      <span className={styles.meta}>
        By <code>{entry.actorAddress}</code>
        {entry.readPoint && ` at ${entry.readPoint}`}
      </span>
    </li>
  );
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const batch = await loadBatchPage((await params).tokenId);
  return { title: `${capitalize(batch.cropType)} batch #${batch.tokenId}` };
}

export default async function BatchPage({ params }: Props) {
  const [batch, user] = await Promise.all([loadBatchPage((await params).tokenId), signedInUser()]);
  const attachments = await listAttachments(batch.tokenId);
  const photos = attachments.flatMap((item) =>
    item.kind === "photo" && item.fileUrl
      ? [{ url: item.fileUrl, thumbnailUrl: item.thumbnailUrl, width: item.width, height: item.height }]
      : [],
  );
  const certificates = attachments.filter((item) => item.kind === "certificate");
  const today = new Date().toISOString().slice(0, 10);
  const certifications = certificationsOf(batch.metadata);
  const farm = batch.farm;
  // The live map is for those who may watch the shipment: its owner, carrier, buyer and admins.
  const watching =
    batch.stateName === "in_transit" && user !== null && (await mayWatch(user, BigInt(batch.tokenId))) === "yes";

  return (
    <main id="main" tabIndex={-1}>
      <header className="page-header">
        <h1>
          {capitalize(batch.cropType)} batch #{batch.tokenId}
        </h1>
        <p>
          From {farm.name}, {farm.region} ({farm.country})
        </p>
        <span className={`${styles.state} ${batch.stateName === "recalled" ? styles.recalled : ""}`}>
          {STATE_LABELS[batch.stateName]}
        </span>
      </header>

      <div className={styles.grid}>
        <section className="card" aria-labelledby="details-heading">
          <h2 id="details-heading">Details</h2>
          <dl className={styles.facts}>
            <dt>Crop</dt>
            <dd>{capitalize(batch.cropType)}</dd>
            <dt>Variety</dt>
            <dd>{batch.variety ?? "Not recorded"}</dd>
            <dt>Quantity</dt>
            <dd>
              {batch.quantity.toLocaleString("en")} {UNIT_LABELS[batch.unit] ?? batch.unit}
            </dd>
            <dt>Harvested</dt>
            <dd>
              <time dateTime={batch.harvestDate}>{dateFormat.format(new Date(`${batch.harvestDate}T00:00:00Z`))}</time>
            </dd>
            <dt>Farm</dt>
            <dd>
              {farm.name}, {farm.region}
            </dd>
            <dt>State</dt>
            <dd>{STATE_LABELS[batch.stateName]}</dd>
            <dt>Owner</dt>
            <dd>
              <code>{batch.ownerAddress}</code>
            </dd>
            <dt>Quality score</dt>
            <dd>{batch.qualityScore} / 100</dd>
            <dt>Certifications</dt>
            <dd>
              {certifications.length ? (
                <ul className={styles.tags}>
                  {certifications.map((name) => (
                    <li key={name}>{name}</li>
                  ))}
                </ul>
              ) : (
                "None"
              )}
            </dd>
          </dl>
        </section>

        <section className="card" aria-labelledby="label-heading">
          <h2 id="label-heading">Label</h2>
          <BatchQr tokenId={batch.tokenId} />
        </section>

        <section className="card" aria-labelledby="actions-heading">
          <h2 id="actions-heading">Record an event</h2>
          {user ? (
            <BatchActionsIsland
              user={user}
              tokenId={batch.tokenId}
              state={batch.state}
              ownerAddress={batch.ownerAddress.toLowerCase()}
              custodianAddress={batch.custodianAddress?.toLowerCase() ?? null}
            />
          ) : (
            <p>
              <Link href={`/signin?next=${encodeURIComponent(`/batches/${batch.tokenId}`)}`}>
                Sign in with your wallet
              </Link>{" "}
              to make an offer or record an inspection, shipment or delivery for this batch.
            </p>
          )}
        </section>
      </div>

      {watching && (
        <section className={`card ${styles.timelineCard}`} aria-labelledby="live-heading">
          <h2 id="live-heading">On the move</h2>
          <LiveMap tokenId={batch.tokenId} tileUrl={env.MAP_TILE_URL} attribution={env.MAP_TILE_ATTRIBUTION} />
        </section>
      )}

      {(photos.length > 0 || certificates.length > 0) && (
        <section className={`card ${styles.timelineCard}`} aria-labelledby="files-heading">
          <h2 id="files-heading">Photos and certificates</h2>
          {photos.length > 0 && (
            <PhotoGrid photos={photos} of={`${capitalize(batch.cropType)} batch #${batch.tokenId}`} />
          )}
          {certificates.length > 0 && (
            <ul className={styles.timeline}>
              {certificates.map(({ id, certificate, fileUrl, sha256 }) => (
                <li key={id}>
                  <strong>{certificate?.scope}</strong>
                  <span className={styles.meta}>
                    {certificate?.issuer} · No. {certificate?.number} · valid {certificate?.validFrom} to{" "}
                    {certificate?.validUntil}
                    {certificate && certificate.validUntil < today && " (expired)"}
                  </span>
                  <span className={styles.meta}>
                    SHA-256 <code>{sha256}</code> ·{" "}
                    <a href={fileUrl ?? undefined} download>
                      Download (PDF)
                    </a>
                  </span>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}

      <section className={`card ${styles.timelineCard}`} aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Custody timeline</h2>
        <ol className={styles.timeline} aria-labelledby="timeline-heading">
          {batch.timeline.map((entry) => (
            <TimelineItem key={entry.eventId} entry={entry} />
          ))}
        </ol>
      </section>
    </main>
  );
}
