import styles from "./charts.module.css";
import type { CropSummary } from "./summarize-analytics";

type Props = { perCrop: CropSummary[]; colors: Record<string, string> };

const number = new Intl.NumberFormat("en");

/** One horizontal bar per crop: a phone has room for the crop names this way. */
export function MedianQuantityChart({ perCrop, colors }: Props) {
  const longest = Math.max(1, ...perCrop.map((row) => row.medianQuantity));
  return (
    <dl className={styles.bars}>
      {perCrop.map((row) => (
        <div key={row.cropType} className={styles.barRow}>
          <dt>{row.cropType}</dt>
          <dd>
            <svg height="14" aria-hidden="true">
              <rect
                data-crop={row.cropType}
                width={`${(row.medianQuantity / longest) * 100}%`}
                height="14"
                rx="2"
                fill={colors[row.cropType]}
              />
            </svg>
            <span>{number.format(row.medianQuantity)} kg</span>
          </dd>
        </div>
      ))}
    </dl>
  );
}
