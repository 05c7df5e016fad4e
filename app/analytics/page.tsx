import type { Metadata } from "next";
import Link from "next/link";
import { CropSelect } from "@/components/charts/crop-select";
import { MedianQuantityChart } from "@/components/charts/median-quantity-chart";
import { QualityChart } from "@/components/charts/quality-chart";
import {
  formatBucket,
  isWindowKey,
  type SeriesRow,
  summarizeAnalytics,
  WINDOWS,
  type WindowKey,
} from "@/components/charts/summarize-analytics";
import { VolumeChart } from "@/components/charts/volume-chart";
import figures from "@/components/figures-table.module.css";
import { getHourlyAnalytics } from "@/lib/analytics/get-hourly-analytics";
import styles from "./analytics.module.css";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Crop analytics" };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

const PALETTE = [
  "#1f6f43",
  "#c2410c",
  "#1d4ed8",
  "#a21caf",
  "#b45309",
  "#0f766e",
  "#be123c",
  "#4d7c0f",
  "#6d28d9",
  "#0369a1",
  "#854d0e",
  "#047857",
  "#9f1239",
  "#3f3f46",
];

const number = new Intl.NumberFormat("en");

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function hrefFor(windowKey: WindowKey, crop: string | null): string {
  const params = new URLSearchParams({ window: windowKey });
  if (crop) params.set("crop", crop);
  return `/analytics?${params}`;
}

function SeriesTable({
  rows,
  crops,
  windowKey,
  caption,
}: {
  rows: SeriesRow[];
  crops: string[];
  windowKey: WindowKey;
  caption: string;
}) {
  return (
    <details className={styles.details}>
      <summary>Show the data as a table</summary>
      <div className={figures.scroll}>
        <table className={`${figures.table} ${styles.table}`}>
          <caption>{caption}</caption>
          <thead>
            <tr>
              <th scope="col">Period (UTC)</th>
              {crops.map((crop) => (
                <th key={crop} scope="col">
                  {crop}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.bucket}>
                <th scope="row">{formatBucket(row.bucket, windowKey)}</th>
                {crops.map((crop) => (
                  <td key={crop}>{row[crop] ?? "–"}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

export default async function AnalyticsPage({ searchParams }: Props) {
  const params = await searchParams;
  const rawWindow = first(params.window);
  const windowKey: WindowKey = isWindowKey(rawWindow) ? rawWindow : "7d";
  const selected = first(params.crop)?.trim().toLowerCase() || null;
  const now = Date.now();
  const points = await getHourlyAnalytics({
    from: new Date(now - WINDOWS[windowKey].hours * 3_600_000).toISOString(),
    limit: 5000,
  });
  const allCrops = [...new Set(points.map((point) => point.cropType))].sort();
  const colors = Object.fromEntries(
    allCrops.map((crop, index) => [crop, PALETTE[index % PALETTE.length] ?? "#1f6f43"]),
  );
  const summary = summarizeAnalytics(
    selected ? points.filter((point) => point.cropType === selected) : points,
    windowKey,
    now,
  );
  const scope = selected ?? "all crops";
  const windowLabel = WINDOWS[windowKey].label;
  const bucketLabel = WINDOWS[windowKey].bucketHours >= 24 ? "day" : `${WINDOWS[windowKey].bucketHours} h`;
  const total = summary.perCrop.reduce((sum, row) => sum + row.batchCount, 0);
  const busiest = summary.volume.reduce<{ bucket: string; count: number } | null>((best, row) => {
    const count = summary.crops.reduce((sum, crop) => sum + Number(row[crop] ?? 0), 0);
    return !best || count > best.count ? { bucket: row.bucket, count } : best;
  }, null);
  const byQuality = summary.perCrop.toSorted((a, b) => b.avgQuality - a.avgQuality);
  const byQuantity = summary.perCrop.toSorted((a, b) => b.medianQuantity - a.medianQuantity);

  return (
    <main id="main" tabIndex={-1} className={styles.page}>
      <header className="page-header">
        <h1>Crop analytics</h1>
        <p>
          Batches recorded per crop, their average quality score and median quantity, from the hourly rollup (times in
          UTC).
        </p>
      </header>
      <div className={styles.controls}>
        <CropSelect crops={allCrops} selected={selected} windowKey={windowKey} className={styles.select} />
        <nav aria-label="Time window" className={styles.windows}>
          {(Object.keys(WINDOWS) as WindowKey[]).map((key) => (
            <Link
              key={key}
              href={hrefFor(key, selected)}
              aria-current={key === windowKey ? "page" : undefined}
              scroll={false}
            >
              {WINDOWS[key].label}
            </Link>
          ))}
        </nav>
      </div>

      {total === 0 ? (
        <p className={styles.empty}>
          No batches for {scope} in the last {windowLabel}.
        </p>
      ) : (
        <>
          <figure className={styles.figure} aria-labelledby="volume-title" aria-describedby="volume-summary">
            <figcaption id="volume-title">
              Volume: batches per {bucketLabel}, {scope}, last {windowLabel}
            </figcaption>
            <p id="volume-summary" className={styles.summary}>
              {number.format(total)} batches in the last {windowLabel}
              {busiest && busiest.count > 0
                ? `; the busiest ${bucketLabel} was ${formatBucket(busiest.bucket, windowKey)} with ${busiest.count}.`
                : "."}
            </p>
            <VolumeChart rows={summary.volume} crops={summary.crops} colors={colors} windowKey={windowKey} />
            <SeriesTable
              rows={summary.volume}
              crops={summary.crops}
              windowKey={windowKey}
              caption={`Batches per ${bucketLabel} and crop`}
            />
          </figure>

          <figure className={styles.figure} aria-labelledby="quality-title" aria-describedby="quality-summary">
            <figcaption id="quality-title">
              Average quality score (0-100) per {bucketLabel}, {scope}, last {windowLabel}
            </figcaption>
            <p id="quality-summary" className={styles.summary}>
              {byQuality
                .map((row) => `${row.cropType} averaged ${row.avgQuality}`)
                .slice(0, 5)
                .join(", ")}
              {byQuality.length > 5 ? ` (highest 5 of ${byQuality.length} crops).` : "."}
            </p>
            <QualityChart rows={summary.quality} crops={summary.crops} colors={colors} windowKey={windowKey} />
            <SeriesTable
              rows={summary.quality}
              crops={summary.crops}
              windowKey={windowKey}
              caption={`Average quality score per ${bucketLabel} and crop (– means no batches)`}
            />
          </figure>

          <figure className={styles.figure} aria-labelledby="quantity-title" aria-describedby="quantity-summary">
            <figcaption id="quantity-title">
              Median quantity per batch (kg), {scope}, last {windowLabel}
            </figcaption>
            <p id="quantity-summary" className={styles.summary}>
              {byQuantity
                .map((row) => `${row.cropType} ${number.format(row.medianQuantity)} kg`)
                .slice(0, 5)
                .join(", ")}
              {byQuantity.length > 5 ? ` (largest 5 of ${byQuantity.length} crops).` : "."} Each crop's figure is the
              batch-weighted median of its hourly medians.
            </p>
            <MedianQuantityChart perCrop={summary.perCrop} colors={colors} />
          </figure>

          <table className={`${figures.table} ${styles.table}`}>
            <caption>Per crop, last {windowLabel}: the figures behind the charts</caption>
            <thead>
              <tr>
                <th scope="col">Crop</th>
                <th scope="col">Batches</th>
                <th scope="col">Average quality</th>
                <th scope="col">Median quantity (kg)</th>
              </tr>
            </thead>
            <tbody>
              {summary.perCrop.map((row) => (
                <tr key={row.cropType}>
                  <th scope="row">{row.cropType}</th>
                  <td>{number.format(row.batchCount)}</td>
                  <td>{row.avgQuality}</td>
                  <td>{number.format(row.medianQuantity)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </main>
  );
}
