export const DASH = "–";

export function duration(seconds: number | null): string {
  if (seconds === null) return DASH;
  if (seconds < 1) return `${Number((seconds * 1000).toPrecision(3))} ms`;
  return `${seconds < 100 ? Number(seconds.toPrecision(3)) : Math.round(seconds)} s`;
}

export const percent = (ratio: number | null) => (ratio === null ? DASH : `${Number((ratio * 100).toPrecision(3))} %`);
export const rate = (burnRate: number | null) => (burnRate === null ? DASH : `${Number(burnRate.toPrecision(3))}x`);
export const time = (iso: string) => `${iso.slice(0, 19).replace("T", " ")} UTC`;
export const count = new Intl.NumberFormat("en");
