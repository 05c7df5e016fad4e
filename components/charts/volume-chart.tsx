import { ChartFrame, Legend, niceTicks } from "./chart-frame";
import { formatBucket, type SeriesRow, type WindowKey } from "./summarize-analytics";

type Props = { rows: SeriesRow[]; crops: string[]; colors: Record<string, string>; windowKey: WindowKey };

/** Batches per bucket, stacked by crop. */
export function VolumeChart({ rows, crops, colors, windowKey }: Props) {
  const totals = rows.map((row) => crops.reduce((sum, crop) => sum + Number(row[crop] ?? 0), 0));
  const ticks = niceTicks(Math.max(0, ...totals), { integers: true });
  const top = ticks.at(-1) ?? 1;
  const labels = rows.map((row) => formatBucket(row.bucket, windowKey));
  return (
    <>
      <ChartFrame
        buckets={labels}
        ticks={ticks}
        details={rows.map(
          (row, index) =>
            `${labels[index]}: ${totals[index]} batches${crops.map((crop) => (row[crop] ? `\n${crop}: ${row[crop]}` : "")).join("")}`,
        )}
      >
        {rows.map((row, index) => {
          let stacked = 0;
          return crops.map((crop) => {
            const count = Number(row[crop] ?? 0);
            if (count === 0) return null;
            stacked += count;
            return (
              <rect
                key={`${row.bucket} ${crop}`}
                data-crop={crop}
                x={index + 0.1}
                width="0.8"
                y={top - stacked}
                height={count}
                fill={colors[crop]}
              />
            );
          });
        })}
      </ChartFrame>
      <Legend crops={crops} colors={colors} />
    </>
  );
}
