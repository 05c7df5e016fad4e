import type { Request } from "@/bench/load";
import { pick, seededRandom, weighted, zipf } from "@/bench/random";
import { CERTIFICATIONS } from "@/bench/seed";

export const HOT_SET = 1_000;
const ZIPF_S = 1.1;

/** The same 1,000 popular tokens each run, spread over the whole table. */
export function hotTokens(batches: number): number[] {
  const random = seededRandom(7);
  const chosen = new Set<number>();
  while (chosen.size < Math.min(HOT_SET, batches)) chosen.add(1 + Math.floor(random() * batches));
  return [...chosen];
}

export function verifyHot(tokens: number[], pathFor = (token: number) => `/api/verify/${token}`): () => Request {
  const random = seededRandom(11);
  const rank = zipf(tokens.length, ZIPF_S, random);
  return () => ({ method: "GET", path: pathFor(tokens[rank()] as number) });
}

export function verifyUniform(batches: number, seed: number): () => Request {
  const random = seededRandom(seed);
  return () => ({ method: "GET", path: `/api/verify/${1 + Math.floor(random() * batches)}` });
}

export const SEARCH_PATH = "/api/crop-batches/search";

export function search(body: Record<string, unknown>): () => Request {
  const text = JSON.stringify(body);
  return () => ({ method: "POST", path: SEARCH_PATH, body: text });
}

const FILTER_CROPS = ["tomato", "potato", "wheat", "apple", "rice", "grape", "coffee"];
const FILTER_REGIONS = ["Andalusia", "Provence", "Punjab", "Bavaria", "Central Valley"];

/** What the marketplace's filters send: a crop, often a certification, a minimum quality or a region. */
export function searchFiltered(seed = 17): () => Request {
  const random = seededRandom(seed);
  return () => {
    const body: Record<string, unknown> = { limit: 20, cropType: pick(FILTER_CROPS, random) };
    if (random() < 0.5) body.certification = pick(CERTIFICATIONS.slice(0, 3), random);
    if (random() < 0.4) body.minQuality = pick([70, 80, 90], random);
    if (random() < 0.3) body.region = pick(FILTER_REGIONS, random);
    return { method: "POST", path: SEARCH_PATH, body: JSON.stringify(body) };
  };
}

/** Each request a page at a different depth, from cursors no visitor has followed: what the database alone does. */
export function searchAnyDepth(cursors: string[]): () => Request {
  let next = 0;
  return () => {
    const cursor = cursors[next % cursors.length];
    next += 1;
    return { method: "POST", path: SEARCH_PATH, body: JSON.stringify({ limit: 20, cursor }) };
  };
}

/** The k6 journey's mix (tests/load/journey.k6.js): scan, search, browse the marketplace, look at the dashboard. */
export const JOURNEY_WEIGHTS = { verify: 50, search: 25, marketplace: 15, analytics: 10 } as const;

/** The share of the journey's requests that are pages (the rest are API calls). */
export const JOURNEY_PAGE_SHARE =
  (JOURNEY_WEIGHTS.marketplace + JOURNEY_WEIGHTS.analytics) /
  Object.values(JOURNEY_WEIGHTS).reduce((sum, weight) => sum + weight, 0);

/** The journey's API calls, verifications and searches in their proportions. */
export function journeyApi(tokens: number[], seed = 19): () => Request {
  const random = seededRandom(seed);
  const verify = verifyHot(tokens);
  const firstPage = search({ limit: 20 });
  const filtered = searchFiltered(23);
  const steps = [
    [verify, JOURNEY_WEIGHTS.verify],
    [() => (random() < 0.5 ? firstPage() : filtered()), JOURNEY_WEIGHTS.search],
  ] as const;
  return () => weighted(steps, random)();
}

// What every browser sends with a page request; without it the page cache unzips each copy it sends.
const BROWSER = { "accept-encoding": "gzip, deflate, br" };

/**
 * The journey's pages, /marketplace and /analytics in their proportions. With `uniqueUrls` each request carries a
 * query of its own that the pages ignore, so no cache tier can answer it and every one is rendered.
 */
export function journeyPages(options: { uniqueUrls?: boolean } = {}, seed = 31): () => Request {
  const random = seededRandom(seed);
  let visit = 0;
  const page = (path: string) => (): Request => {
    visit += 1;
    return { method: "GET", path: options.uniqueUrls ? `${path}?visit=${visit}` : path, headers: BROWSER };
  };
  const steps = [
    [page("/marketplace"), JOURNEY_WEIGHTS.marketplace],
    [page("/analytics"), JOURNEY_WEIGHTS.analytics],
  ] as const;
  return () => weighted(steps, random)();
}

export function journey(tokens: number[], options: { uniqueUrls?: boolean } = {}): () => Request {
  const random = seededRandom(37);
  const api = journeyApi(tokens);
  const pages = journeyPages(options);
  return () => (random() < JOURNEY_PAGE_SHARE ? pages() : api());
}

/** Hot tokens most of the time, the rest from a set larger than the L1 cache, so L2 is read. */
export function verifyPastL1(tokens: number[], batches: number, warmSet: number): () => Request {
  const random = seededRandom(29);
  const hot = verifyHot(tokens);
  const span = Math.min(warmSet, batches);
  return () => {
    if (random() < 0.7) return hot();
    const token = 1 + ((Math.floor(random() * span) * 7919) % batches);
    return { method: "GET", path: `/api/verify/${token}` };
  };
}
