import type { Metadata } from "next";
import { BatchFiles } from "@/components/farmer/batch-files";
import styles from "@/components/farmer/farmer.module.css";
import { PrintButton } from "@/components/farmer/print-button";
import { BatchQr } from "@/components/verify/batch-qr";
import { STATE_LABELS, UNIT_LABELS } from "@/lib/batches/labels";
import { loadBatchPage } from "@/lib/batches/load-batch-page";
import { verificationUrl } from "@/lib/verify/verification-url";

type Props = { params: Promise<{ tokenId: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const batch = await loadBatchPage((await params).tokenId);
  return { title: `Batch #${batch.tokenId}` };
}

/**
 * The farmer's view of one batch: its facts, the label's QR code (the verification URL), printable, and its photos
 * and certificates.
 */
export default async function FarmerBatchPage({ params }: Props) {
  const batch = await loadBatchPage((await params).tokenId);
  const url = verificationUrl(batch.tokenId);
  return (
    <main id="main" tabIndex={-1} className={styles.page}>
      <h1>
        Batch #{batch.tokenId}: {batch.cropType}
      </h1>
      <section className={`${styles.panel} ${styles.qr}`} aria-label="Label">
        <BatchQr tokenId={batch.tokenId} size={240} />
        <div className={`${styles.row} ${styles.noPrint}`}>
          <PrintButton className={styles.primary} />
          <a className={styles.secondary} href={`/farmer/batches/${batch.tokenId}/label.svg`} download>
            Download SVG
          </a>
          <a className={styles.secondary} href={url}>
            Open verification
          </a>
        </div>
      </section>
      <section className={styles.panel} aria-label="Details">
        <dl className={styles.facts}>
          <dt>Crop</dt>
          <dd>
            {batch.cropType}
            {batch.variety ? ` (${batch.variety})` : ""}
          </dd>
          <dt>Quantity</dt>
          <dd>
            {batch.quantity} {UNIT_LABELS[batch.unit] ?? batch.unit}
          </dd>
          <dt>Harvested</dt>
          <dd>{batch.harvestDate}</dd>
          <dt>Farm</dt>
          <dd>
            {batch.farm.name}, {batch.farm.region}
          </dd>
          <dt>Quality</dt>
          <dd>{batch.qualityScore}</dd>
          <dt>State</dt>
          <dd>{STATE_LABELS[batch.stateName]}</dd>
          <dt>On chain</dt>
          <dd>{batch.chainStatus}</dd>
        </dl>
      </section>
      <BatchFiles tokenId={batch.tokenId} />
      <p className={styles.noPrint}>
        <a href="/farmer">Back to batches</a>
      </p>
    </main>
  );
}
