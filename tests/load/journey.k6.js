// The design's load test, for those who have k6 (https://k6.io; not installable on the project's machines, where
// `npm run bench` measures the same paths with autocannon). Run against a seeded server:
//   k6 run -e BASE_URL=http://127.0.0.1:3000 -e TOKENS=1000000 tests/load/journey.k6.js
// RATE_SCALE (default 1) scales every arrival rate, e.g. -e RATE_SCALE=0.1 for a small box.
import { check } from "k6";
import http from "k6/http";

const BASE_URL = __ENV.BASE_URL || "http://127.0.0.1:3000";
const TOKENS = Number(__ENV.TOKENS || 1000000);
const SCALE = Number(__ENV.RATE_SCALE || 1);
const DURATION = __ENV.DURATION || "2m";
const HOT_SET = 1000;
const ZIPF_S = 1.1;

const rate = (perSecond) => Math.max(1, Math.round(perSecond * SCALE));

export const options = {
  discardResponseBodies: true,
  scenarios: {
    // Consumers scanning labels: the design's 10,000 verifications a second.
    verify: {
      executor: "constant-arrival-rate",
      exec: "verify",
      rate: rate(10000),
      timeUnit: "1s",
      duration: DURATION,
      preAllocatedVUs: 200,
      maxVUs: 2000,
    },
    // Buyers searching the marketplace: 5,000 searches a second.
    search: {
      executor: "constant-arrival-rate",
      exec: "search",
      rate: rate(5000),
      timeUnit: "1s",
      duration: DURATION,
      preAllocatedVUs: 100,
      maxVUs: 1000,
    },
    // The journey: scan, search, the marketplace page, the dashboard (weights as in bench/scenarios.ts).
    journey: {
      executor: "constant-arrival-rate",
      exec: "journey",
      rate: rate(200),
      timeUnit: "1s",
      duration: DURATION,
      preAllocatedVUs: 50,
      maxVUs: 500,
    },
  },
  thresholds: {
    // QR verification: P99.9 < 150 ms at 10,000 req/s.
    "http_req_duration{scenario:verify}": ["p(99.9)<150"],
    // Crop search: P99.9 < 300 ms at 5,000 req/s.
    "http_req_duration{scenario:search}": ["p(99.9)<300"],
    // Any other API call: P99.9 < 100 ms.
    "http_req_duration{kind:api}": ["p(99.9)<100"],
    http_req_failed: ["rate<0.001"],
    checks: ["rate>0.999"],
  },
};

// Zipf-like popularity over a hot set of tokens spread across the table (inverse CDF over a prefix sum).
const hotTokens = [];
const cumulative = [];
let total = 0;
for (let rank = 0; rank < HOT_SET; rank += 1) {
  hotTokens.push(1 + ((rank * 7919 + 13) % TOKENS));
  total += 1 / (rank + 1) ** ZIPF_S;
  cumulative.push(total);
}

function hotToken() {
  const target = Math.random() * total;
  let low = 0;
  let high = HOT_SET - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (cumulative[middle] < target) low = middle + 1;
    else high = middle;
  }
  return hotTokens[low];
}

const CROPS = ["tomato", "potato", "wheat", "apple", "rice", "grape", "coffee"];
const CERTIFICATIONS = ["GlobalG.A.P.", "EU Organic", "Fairtrade"];
const pick = (items) => items[Math.floor(Math.random() * items.length)];
const json = { headers: { "Content-Type": "application/json" } };

function scan() {
  const response = http.get(`${BASE_URL}/api/verify/${hotToken()}`, {
    tags: { name: "GET /api/verify/{tokenId}", kind: "verify" },
  });
  check(response, { "verification 200": (r) => r.status === 200 });
}

function searchOnce() {
  const body = { limit: 20 };
  if (Math.random() < 0.5) {
    body.cropType = pick(CROPS);
    if (Math.random() < 0.5) body.certification = pick(CERTIFICATIONS);
    if (Math.random() < 0.4) body.minQuality = pick([70, 80, 90]);
  }
  const response = http.post(`${BASE_URL}/api/crop-batches/search`, JSON.stringify(body), {
    ...json,
    tags: { name: "POST /api/crop-batches/search", kind: "search" },
  });
  check(response, { "search 200": (r) => r.status === 200 });
}

function page(path) {
  const response = http.get(`${BASE_URL}${path}`, { tags: { name: `GET ${path}`, kind: "page" } });
  check(response, { [`${path} 200`]: (r) => r.status === 200 });
}

export function verify() {
  scan();
}

export function search() {
  searchOnce();
}

export function journey() {
  const roll = Math.random() * 100;
  if (roll < 50) scan();
  else if (roll < 75) searchOnce();
  else if (roll < 90) page("/marketplace");
  else {
    page("/analytics");
    const response = http.get(`${BASE_URL}/api/analytics/hourly`, {
      tags: { name: "GET /api/analytics/hourly", kind: "api" },
    });
    check(response, { "analytics 200": (r) => r.status === 200 });
  }
}
