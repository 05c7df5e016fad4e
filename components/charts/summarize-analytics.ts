import type { HourlyPoint } from "@/lib/analytics/get-hourly-analytics";

export const WINDOWS = {
  "24h": { label: "24 h", hours: 24, bucketHours: 1 },
  "7d": { label: "7 d", hours: 7 * 24, bucketHours: 6 },
  "30d": { label: "30 d", hours: 30 * 24, bucketHours: 24 },
} as const;

export type WindowKey = keyof typeof WINDOWS;

export type SeriesRow = { bucket: string } & Record<string, number | string | null>;

export type CropSummary = { cropType: string; batchCount: number; avgQuality: number; medianQuantity: number };

export type AnalyticsSummary = {
  crops: string[];
  volume: SeriesRow[];
  quality: SeriesRow[];
  perCrop: CropSummary[];
};

const HOUR = 3_600_000;

export function isWindowKey(value: unknown): value is WindowKey {
  return typeof value === "string" && Object.hasOwn(WINDOWS, value);
}

// The table only keeps hourly medians, so a crop's median over many hours is the batch-weighted median of those.
function weightedMedian(points: HourlyPoint[]): number {
  const sorted = points.toSorted((a, b) => a.medianQuantity - b.medianQuantity);
  const half = sorted.reduce((sum, point) => sum + point.batchCount, 0) / 2;
  let seen = 0;
  for (const point of sorted) {
    seen += point.batchCount;
    if (seen >= half) return point.medianQuantity;
  }
  return 0;
}

export function summarizeAnalytics(points: HourlyPoint[], windowKey: WindowKey, now: number): AnalyticsSummary {
  const bucketMs = WINDOWS[windowKey].bucketHours * HOUR;
  const first = Math.floor((now - WINDOWS[windowKey].hours * HOUR) / bucketMs) * bucketMs;
  const crops = [...new Set(points.map((point) => point.cropType))].sort();
  const buckets = new Map<number, { count: Record<string, number>; qualitySum: Record<string, number> }>();
  for (let start = first; start <= now; start += bucketMs) buckets.set(start, { count: {}, qualitySum: {} });
  for (const point of points) {
    const bucket = buckets.get(Math.floor(Date.parse(point.hour) / bucketMs) * bucketMs);
    if (!bucket) continue;
    bucket.count[point.cropType] = (bucket.count[point.cropType] ?? 0) + point.batchCount;
    bucket.qualitySum[point.cropType] = (bucket.qualitySum[point.cropType] ?? 0) + point.avgQuality * point.batchCount;
  }
  const volume: SeriesRow[] = [];
  const quality: SeriesRow[] = [];
  for (const [start, { count, qualitySum }] of buckets) {
    const bucket = new Date(start).toISOString();
    volume.push(Object.assign({ bucket }, ...crops.map((crop) => ({ [crop]: count[crop] ?? 0 }))));
    quality.push(
      Object.assign(
        { bucket },
        ...crops.map((crop) => {
          const batches = count[crop];
          return { [crop]: batches ? Math.round(((qualitySum[crop] ?? 0) / batches) * 10) / 10 : null };
        }),
      ),
    );
  }
  const perCrop = crops.map((cropType) => {
    const own = points.filter((point) => point.cropType === cropType);
    const batchCount = own.reduce((sum, point) => sum + point.batchCount, 0);
    const qualitySum = own.reduce((sum, point) => sum + point.avgQuality * point.batchCount, 0);
    return {
      cropType,
      batchCount,
      avgQuality: batchCount ? Math.round((qualitySum / batchCount) * 10) / 10 : 0,
      medianQuantity: weightedMedian(own),
    };
  });
  return { crops, volume, quality, perCrop };
}

const hourFormat = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "UTC",
});
const dayFormat = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });

export function formatBucket(bucket: string, windowKey: WindowKey): string {
  return (WINDOWS[windowKey].bucketHours >= 24 ? dayFormat : hourFormat).format(new Date(bucket));
}
