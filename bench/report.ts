import { appendFileSync } from "node:fs";
import os from "node:os";
import type { Measured } from "@/bench/load";

export type Row = {
  scenario: string;
  server: "ceiling" | "limit" | "naive" | "ours";
  measured: Measured;
  /** The limit's and the naive peer's runs this row is compared with. */
  limit?: Measured;
  naive?: Measured;
  /** The generator against a server that only writes the same bytes: what the load generator itself reaches. */
  ceiling?: Measured;
  note?: string;
};

export type Check = { target: string; measured: string; pass: boolean | null };

const number = (value: number, digits = 0) =>
  value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ratio = (ours: Measured, other?: Measured) => (other ? `${number(ours.rps / other.rps, 2)}x` : "");

export function table(rows: Row[]): string {
  const lines = [
    "| scenario | server | requests | req/s | P50 ms | P99 ms | P99.9 ms | errors | non-2xx | ours/limit | ours/naive | generator ceiling req/s | note |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const row of rows) {
    const m = row.measured;
    const statuses = Object.entries(m.statuses)
      .filter(([status]) => !status.startsWith("2"))
      .map(([status, count]) => `${status}: ${number(count)}`)
      .join(", ");
    const ours = row.server === "ours";
    lines.push(
      `| ${row.scenario} | ${row.server} | ${number(m.requests)} | ${number(m.rps)} | ${number(m.p50, 2)} | ${number(m.p99, 2)} | ${number(m.p999, 2)} | ${number(m.errors)} | ${number(m.non2xx)}${statuses ? ` (${statuses})` : ""} | ${ours ? ratio(m, row.limit) : ""} | ${ours ? ratio(m, row.naive) : ""} | ${row.ceiling ? number(row.ceiling.rps) : ""} | ${row.note ?? ""} |`,
    );
  }
  return lines.join("\n");
}

export function checks(list: Check[]): string {
  const verdict = (pass: boolean | null) => (pass === null ? "n/a" : pass ? "met" : "**missed**");
  return [
    "| target | measured | result |",
    "| --- | --- | --- |",
    ...list.map((check) => `| ${check.target} | ${check.measured} | ${verdict(check.pass)} |`),
  ].join("\n");
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const load = os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(" / ");
  return `${os.cpus().length} cores (nproc), ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; load average at start ${load} (1/5/15 min); Node ${process.version}`;
}

export function appendResults(file: string, section: string): void {
  appendFileSync(file, `\n${section}\n`);
}
