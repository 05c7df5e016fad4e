import Link from "next/link";
import type { RowComponentProps } from "react-window";
import { STATE_LABELS, UNIT_LABELS } from "@/lib/batches/labels";
import type { BatchSummary } from "@/lib/batches/search-batches";
import styles from "./marketplace.module.css";

export const ROW_HEIGHT = 136;

const CROP_ICONS = new Set([
  "tomato",
  "potato",
  "wheat",
  "maize",
  "apple",
  "grape",
  "strawberry",
  "lettuce",
  "coffee",
  "rice",
  "olive",
  "avocado",
  "carrot",
  "onion",
]);

const dateFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeZone: "UTC" });
const quantityFormat = new Intl.NumberFormat("en", { maximumFractionDigits: 3 });

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export type BatchRowProps = { rows: BatchSummary[] };

export function BatchRow({ index, style, ariaAttributes, rows }: RowComponentProps<BatchRowProps>) {
  const batch = rows[index];
  if (!batch) return null;
  const icon = CROP_ICONS.has(batch.cropType) ? batch.cropType : "generic";
  return (
    <div {...ariaAttributes} style={style} className={styles.slot} data-testid="batch-row">
      <article className={styles.row}>
        {/* biome-ignore lint/performance/noImgElement: a static SVG or a thumbnail made at upload; next/image would re-encode them */}
        <img
          className={styles.icon}
          src={batch.thumbnailUrl ?? `/crops/${icon}.svg`}
          width={48}
          height={48}
          alt=""
          loading="lazy"
          decoding="async"
        />
        <div className={styles.body}>
          <h2 className={styles.title}>
            <Link prefetch={false} href={`/batches/${batch.tokenId}`} className={styles.link}>
              {capitalize(batch.cropType)}
              {batch.variety ? ` · ${batch.variety}` : ""}
            </Link>
          </h2>
          <p className={styles.line}>
            {batch.farm.name} · {batch.farm.region}, {batch.farm.country}
          </p>
          <p className={styles.line}>
            Harvested {dateFormat.format(new Date(`${batch.harvestDate}T00:00:00Z`))} ·{" "}
            {quantityFormat.format(batch.quantity)} {UNIT_LABELS[batch.unit] ?? batch.unit} · Quality{" "}
            {batch.qualityScore}
          </p>
          {(batch.certifications.length > 0 || batch.validCertificate) && (
            <ul className={styles.chips} aria-label="Certifications">
              {batch.validCertificate && <li className={`${styles.chip} ${styles.verified}`}>Certificate on file</li>}
              {batch.certifications.map((name) => (
                <li key={name} className={styles.chip}>
                  {name}
                </li>
              ))}
            </ul>
          )}
        </div>
        <span className={`${styles.state} ${styles[batch.stateName] ?? ""}`}>{STATE_LABELS[batch.stateName]}</span>
      </article>
    </div>
  );
}
