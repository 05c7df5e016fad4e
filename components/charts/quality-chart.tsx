import { ChartFrame, Legend } from "./chart-frame";
import styles from "./charts.module.css";
import { formatBucket, type SeriesRow, type WindowKey } from "./summarize-analytics";

type Props = { rows: SeriesRow[]; crops: string[]; colors: Record<string, string>; windowKey: WindowKey };

const TICKS = [0, 25, 50, 75, 100];

/** Average quality per bucket, one line per crop; a bucket without batches of a crop is bridged. */
export function QualityChart({ rows, crops, colors, windowKey }: Props) {
  const labels = rows.map((row) => formatBucket(row.bucket, windowKey));
  return (
    <>
      <ChartFrame
        buckets={labels}
        ticks={TICKS}
        details={rows.map(
          (row, index) =>
            `${labels[index]}${crops.map((crop) => (row[crop] === null ? "" : `\n${crop}: ${row[crop]}`)).join("")}`,
        )}
      >
        {crops.map((crop) => {
          const points = rows.flatMap((row, index) =>
            row[crop] === null ? [] : [`${index + 0.5} ${100 - Number(row[crop])}`],
          );
          // A crop seen in one bucket only is a dot: a zero-length line with round caps.
          const d = points.length === 1 ? `M${points[0]}h0` : `M${points.join("L")}`;
          return points.length ? (
            <path
              key={crop}
              data-crop={crop}
              className={styles.line}
              d={d}
              stroke={colors[crop]}
              strokeLinecap="round"
            />
          ) : null;
        })}
      </ChartFrame>
      <Legend crops={crops} colors={colors} />
    </>
  );
}
