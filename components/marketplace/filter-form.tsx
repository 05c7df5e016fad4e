"use client";

import Link from "next/link";
import { type FormEvent, useState } from "react";
import type { Facets } from "@/lib/batches/get-facets";
import { SORT_LABELS, STATE_LABELS } from "@/lib/batches/labels";
import { STATES } from "@/lib/batches/lifecycle";
import { SEARCH_SORTS, type SearchSort } from "@/lib/batches/sorts";
import { capitalize } from "./batch-row";
import styles from "./marketplace.module.css";
import { type Filters, filtersToQuery, type StateChoice } from "./url-filters";

type Props = { filters: Filters; facets: Facets; pending: boolean; onApply: (next: Filters) => void };

function optional(value: string): string | undefined {
  const trimmed = value.trim();
  return trimmed ? trimmed : undefined;
}

function Select(props: {
  id: string;
  name: string;
  label: string;
  value: string | undefined;
  any: string;
  options: readonly (string | [string, string])[];
  onChange: (value: string) => void;
}) {
  return (
    <div className={styles.field}>
      <label htmlFor={props.id}>{props.label}</label>
      <select
        id={props.id}
        name={props.name}
        className={styles.input}
        value={props.value ?? ""}
        onChange={(event) => props.onChange(event.target.value)}
      >
        {props.any && <option value="">{props.any}</option>}
        {props.options.map((option) => {
          const [value, label] = Array.isArray(option) ? option : [option, option];
          return (
            <option key={value} value={value}>
              {label}
            </option>
          );
        })}
      </select>
    </div>
  );
}

const SORT_OPTIONS = SEARCH_SORTS.map((sort): [SearchSort, string] => [sort, SORT_LABELS[sort]]);

const STATE_OPTIONS: [StateChoice, string][] = [
  ["forSale", "For sale (harvested, in transit, stored)"],
  ["any", "Any state"],
  ...STATES.map((name, index): [StateChoice, string] => [String(index) as StateChoice, STATE_LABELS[name]]),
];

/** Lists apply at once; typed fields (search, quality, dates) apply on Enter or the Apply button. */
function activeFilters(filters: Filters): number {
  const { q, cropType, certification, validCertificate, minQuality, harvestedFrom, harvestedTo, region, state } =
    filters;
  const set = [q, cropType, certification, validCertificate, minQuality, harvestedFrom, harvestedTo, region];
  return set.filter((value) => value !== undefined).length + (state === "forSale" ? 0 : 1);
}

export function FilterForm({ filters, facets, pending, onApply }: Props) {
  const key = filtersToQuery(filters);
  // Phones only (CSS hides the toggle elsewhere): the fields would fill the screen before the first result.
  const [expanded, setExpanded] = useState(false);
  const active = activeFilters(filters);
  const [draft, setDraft] = useState(filters);
  const [draftKey, setDraftKey] = useState(key);
  if (draftKey !== key) {
    setDraftKey(key);
    setDraft(filters);
  }
  const choose = (patch: Partial<Filters>) => {
    const next = { ...draft, ...patch };
    setDraft(next);
    onApply(next);
  };
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onApply(draft);
  };
  const cropOptions = facets.cropTypes.map((crop): [string, string] => [crop, capitalize(crop)]);

  return (
    <search aria-label="Filter batches">
      {/* Named like the URL's parameters, so the form also works before hydration. */}
      <form className={styles.filters} data-expanded={expanded} action="/marketplace" method="get" onSubmit={submit}>
        {filters.pageSize && <input type="hidden" name="pageSize" value={filters.pageSize} />}
        <button
          type="button"
          className={styles.toggle}
          aria-expanded={expanded}
          aria-controls="mk-filter-fields"
          onClick={() => setExpanded(!expanded)}
        >
          Filters{active > 0 && ` (${active})`}
        </button>
        <div id="mk-filter-fields" className={`${styles.fields} ${styles.fold}`}>
          <div className={`${styles.field} ${styles.wide}`}>
            <label htmlFor="mk-q">Search crops, varieties and farms</label>
            <input
              id="mk-q"
              name="q"
              type="search"
              className={styles.input}
              value={draft.q ?? ""}
              minLength={2}
              maxLength={100}
              onChange={(event) => setDraft({ ...draft, q: optional(event.target.value) })}
            />
          </div>
          <Select
            id="mk-crop"
            name="crop"
            label="Crop type"
            any="Any crop"
            value={draft.cropType}
            options={cropOptions}
            onChange={(value) => choose({ cropType: optional(value) })}
          />
          <Select
            id="mk-cert"
            name="cert"
            label="Certification"
            any="Any certification"
            value={draft.certification}
            options={facets.certifications}
            onChange={(value) => choose({ certification: optional(value) })}
          />
          <div className={styles.check}>
            <input
              id="mk-valid-cert"
              name="validCert"
              type="checkbox"
              checked={draft.validCertificate === true}
              onChange={(event) => choose({ validCertificate: event.target.checked ? true : undefined })}
            />
            <label htmlFor="mk-valid-cert">With a valid certificate attached</label>
          </div>
          <div className={styles.field}>
            <label htmlFor="mk-quality">Minimum quality (0–100)</label>
            <input
              id="mk-quality"
              name="minQuality"
              type="number"
              inputMode="numeric"
              min={0}
              max={100}
              step={1}
              className={styles.input}
              value={draft.minQuality ?? ""}
              onChange={(event) =>
                setDraft({ ...draft, minQuality: event.target.value === "" ? undefined : Number(event.target.value) })
              }
            />
          </div>
          <div className={styles.field}>
            <label htmlFor="mk-from">Harvested from</label>
            <input
              id="mk-from"
              name="from"
              type="date"
              className={styles.input}
              value={draft.harvestedFrom ?? ""}
              max={draft.harvestedTo}
              onChange={(event) => setDraft({ ...draft, harvestedFrom: optional(event.target.value) })}
            />
          </div>
          <div className={styles.field}>
            <label htmlFor="mk-to">Harvested to</label>
            <input
              id="mk-to"
              name="to"
              type="date"
              className={styles.input}
              value={draft.harvestedTo ?? ""}
              min={draft.harvestedFrom}
              onChange={(event) => setDraft({ ...draft, harvestedTo: optional(event.target.value) })}
            />
          </div>
          <Select
            id="mk-state"
            name="state"
            label="State"
            any=""
            value={draft.state}
            options={STATE_OPTIONS}
            onChange={(value) => choose({ state: value as StateChoice })}
          />
          <Select
            id="mk-region"
            name="region"
            label="Region"
            any="Any region"
            value={draft.region}
            options={facets.regions}
            onChange={(value) => choose({ region: optional(value) })}
          />
        </div>
        <Select
          id="mk-sort"
          name="sort"
          label="Sort by"
          any=""
          value={draft.sort ?? "newest"}
          options={SORT_OPTIONS}
          onChange={(value) => choose({ sort: value === "newest" ? undefined : (value as SearchSort) })}
        />
        <div className={`${styles.actions} ${styles.fold}`}>
          <button type="submit" className={styles.button} disabled={pending}>
            {pending ? "Searching…" : "Apply filters"}
          </button>
          <Link href="/marketplace" className={styles.clear}>
            Clear filters
          </Link>
        </div>
      </form>
    </search>
  );
}
