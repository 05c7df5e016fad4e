import { SEARCH_SORTS, type SearchSort } from "@/lib/batches/sorts";

export const FOR_SALE_STATES = [0, 1, 2] as const;
export const DEFAULT_PAGE_SIZE = 30;
export const MAX_PAGE_SIZE = 100;

/** "forSale" (the default, absent from the URL), "any", or one state number. */
export type StateChoice = "forSale" | "any" | `${0 | 1 | 2 | 3 | 4 | 5}`;

export type Filters = {
  q?: string;
  cropType?: string;
  certification?: string;
  /** Only batches with a certificate attached and valid today. */
  validCertificate?: true;
  minQuality?: number;
  harvestedFrom?: string;
  harvestedTo?: string;
  state: StateChoice;
  region?: string;
  /** Absent means newest harvest first. */
  sort?: SearchSort;
  pageSize?: number;
};

export type SearchBody = {
  q?: string;
  cropType?: string;
  certification?: string;
  validCertificate?: true;
  minQuality?: number;
  harvestedFrom?: string;
  harvestedTo?: string;
  states?: number[];
  region?: string;
  sort?: SearchSort;
  limit: number;
};

type Params = Record<string, string | string[] | undefined>;

const STATE_CHOICES = new Set<string>(["any", "0", "1", "2", "3", "4", "5"]);
const SORTS = new Set<string>(SEARCH_SORTS);
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

function text(params: Params, name: string): string | undefined {
  const raw = params[name];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  return value ? value : undefined;
}

function integer(params: Params, name: string, min: number, max: number): number | undefined {
  const value = text(params, name);
  if (!value || !/^\d+$/.test(value)) return undefined;
  return Math.min(max, Math.max(min, Number(value)));
}

/** Lenient: a value the URL cannot hold is dropped, never an error; the search schema has the last word. */
export function filtersFromParams(params: Params): Filters {
  const state = text(params, "state");
  const from = text(params, "from");
  const to = text(params, "to");
  const q = text(params, "q");
  const sort = text(params, "sort");
  return {
    q: q && q.length >= 2 ? q.slice(0, 100) : undefined,
    cropType: text(params, "crop"),
    certification: text(params, "cert"),
    validCertificate: text(params, "validCert") === "1" ? true : undefined,
    minQuality: integer(params, "minQuality", 0, 100),
    harvestedFrom: from && ISO_DAY.test(from) ? from : undefined,
    harvestedTo: to && ISO_DAY.test(to) ? to : undefined,
    state: state && STATE_CHOICES.has(state) ? (state as StateChoice) : "forSale",
    region: text(params, "region"),
    sort: sort && sort !== "newest" && SORTS.has(sort) ? (sort as SearchSort) : undefined,
    pageSize: integer(params, "pageSize", 1, MAX_PAGE_SIZE),
  };
}

export function filtersToQuery(filters: Filters): string {
  const params = new URLSearchParams();
  const entries: [string, string | number | undefined][] = [
    ["q", filters.q],
    ["crop", filters.cropType],
    ["cert", filters.certification],
    ["validCert", filters.validCertificate ? 1 : undefined],
    ["minQuality", filters.minQuality],
    ["from", filters.harvestedFrom],
    ["to", filters.harvestedTo],
    ["state", filters.state === "forSale" ? undefined : filters.state],
    ["region", filters.region],
    ["sort", filters.sort],
    ["pageSize", filters.pageSize],
  ];
  for (const [name, value] of entries) if (value !== undefined && value !== "") params.set(name, String(value));
  const query = params.toString();
  return query ? `?${query}` : "";
}

export function searchBody(filters: Filters): SearchBody {
  const { pageSize, state, ...rest } = filters;
  const states = state === "forSale" ? [...FOR_SALE_STATES] : state === "any" ? undefined : [Number(state)];
  const body: SearchBody = { limit: pageSize ?? DEFAULT_PAGE_SIZE };
  for (const [name, value] of Object.entries({ ...rest, states })) {
    if (value !== undefined) Object.assign(body, { [name]: value });
  }
  return body;
}
