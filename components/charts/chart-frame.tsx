import type { ReactNode } from "react";
import styles from "./charts.module.css";

/** Plot height in CSS pixels; the plot stretches to the figure's width. */
export const PLOT_HEIGHT = 240;

const number = new Intl.NumberFormat("en");

/** About `count` round steps (1, 2 or 5 times a power of ten) from 0 to at least `max`. */
export function niceTicks(max: number, { count = 4, integers = false } = {}): number[] {
  const raw = Math.max(max, integers ? 1 : Number.EPSILON) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(
    [1, 2, 5, 10].map((factor) => factor * power).find((value) => value >= raw) ?? raw,
    integers ? 1 : 0,
  );
  return Array.from({ length: Math.ceil(max / step) + 1 }, (_, index) => Math.round(index * step * 1e6) / 1e6);
}

type FrameProps = {
  /** One label per bucket along the x axis; a few of them are printed. */
  buckets: string[];
  ticks: number[];
  /** What a pointer over a bucket shows (the browser's tooltip), one per bucket. */
  details: string[];
  /** Drawn in a `0 0 buckets.length top` box, y growing downwards, stretched to the plot. */
  children: ReactNode;
};

/**
 * Axes, grid and tooltips around a plot drawn in data units: rendered on the server as SVG, so the page ships no
 * charting code and the chart is there at first paint. Text stays out of the stretched box so it never distorts.
 */
export function ChartFrame({ buckets, ticks, details, children }: FrameProps) {
  const top = ticks.at(-1) ?? 1;
  const y = (value: number) => PLOT_HEIGHT - (value / top) * PLOT_HEIGHT;
  // Six labels on a wide screen, three on a phone, each centred in its share of the axis so none hangs off an end.
  const spread = (count: number) =>
    Array.from({ length: Math.min(count, buckets.length) }, (_, index) =>
      Math.floor(((index + 0.5) * buckets.length) / Math.min(count, buckets.length)),
    );
  const wide = spread(6);
  const narrow = spread(3);
  const labelled = [...new Set([...wide, ...narrow])].map((index) => ({
    index,
    className: wide.includes(index) ? (narrow.includes(index) ? undefined : styles.wide) : styles.narrow,
  }));
  return (
    <div className={styles.chart}>
      <svg className={styles.yAxis} height={PLOT_HEIGHT} aria-hidden="true">
        {ticks.map((tick) => (
          <text key={tick} x="100%" dx="-6" y={y(tick)} dy="4" textAnchor="end">
            {number.format(tick)}
          </text>
        ))}
      </svg>
      <svg
        className={styles.plot}
        viewBox={`0 0 ${buckets.length} ${top}`}
        preserveAspectRatio="none"
        height={PLOT_HEIGHT}
        aria-hidden="true"
      >
        {ticks.map((tick) => (
          <line key={tick} className={styles.grid} x1="0" x2={buckets.length} y1={top - tick} y2={top - tick} />
        ))}
        {children}
        {details.map((detail, index) => (
          <rect key={buckets[index]} className={styles.hover} x={index} width="1" y="0" height={top}>
            <title>{detail}</title>
          </rect>
        ))}
      </svg>
      <svg className={styles.xAxis} height="20" aria-hidden="true">
        {labelled.map(({ index, className }) => (
          <text
            key={index}
            className={className}
            x={`${((index + 0.5) / buckets.length) * 100}%`}
            y="14"
            textAnchor="middle"
          >
            {buckets[index]}
          </text>
        ))}
      </svg>
    </div>
  );
}

export function Legend({ crops, colors }: { crops: string[]; colors: Record<string, string> }) {
  return (
    <ul className={styles.legend} aria-label="Legend">
      {crops.map((crop) => (
        <li key={crop} data-legend-item>
          <svg width="12" height="12" aria-hidden="true">
            <rect width="12" height="12" rx="2" fill={colors[crop]} />
          </svg>
          {crop}
        </li>
      ))}
    </ul>
  );
}
