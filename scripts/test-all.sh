#!/usr/bin/env bash
# `npm test`: installs what the tests need, then runs every suite. With TEST_DATABASE_URL (and TEST_REDIS_URL)
# the integration suite runs a second time against those real servers, plus the PostgreSQL-only plan tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci
fi
# Debian packages the tests run: Redis servers of their own (cache tests), Chromium (e2e, budgets), HAProxy and
# Varnish with vmod-xkey (deploy/'s configs, the page cache test), OpenStack Swift with memcached (the S3 store the
# PostgreSQL pass keeps files in), clamd (the antivirus hook), promtool (deploy/prometheus/'s rules and their tests),
# Prometheus and Alertmanager (the alerting test runs them with those rules).
missing=()
[ -x /usr/bin/redis-server ] || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/haproxy ] || missing+=(haproxy)
[ -x /usr/sbin/varnishd ] || missing+=(varnish)
[ -f /usr/lib/x86_64-linux-gnu/varnish/vmods/libvmod_xkey.so ] || missing+=(varnish-modules)
[ -x /usr/bin/swift-proxy-server ] || missing+=(swift swift-proxy swift-account swift-container swift-object)
[ -x /usr/bin/memcached ] || missing+=(memcached)
[ -x /usr/sbin/clamd ] || missing+=(clamav-daemon)
[ -x /usr/bin/promtool ] || missing+=(prometheus)
[ -x /usr/bin/prometheus-alertmanager ] || missing+=(prometheus-alertmanager)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

step() { printf '\n== %s\n' "$*"; }

step "lint and types"
npx biome check .
npx tsc --noEmit

step "unit and contract"
npx vitest run --project unit --project chain

step "integration: embedded PGlite, in-process cache"
env -u TEST_DATABASE_URL -u TEST_REDIS_URL npx vitest run --project integration

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  step "integration + query plans + schema drift: PostgreSQL ${TEST_DATABASE_URL##*@}, Redis ${TEST_REDIS_URL:-none}"
  npx vitest run --project integration --project schema
  # Its own run, so its own database: 300,000 rows would crowd the integration suite's data.
  npx vitest run --project postgres
else
  step "TEST_DATABASE_URL is not set: skipping the real PostgreSQL/Redis pass (CI sets it)"
fi

step "production build; real processes: a PostgreSQL kill -9, the worker lease, drain, a replica, the page cache, burn alerts"
npm run build
npx vitest run --project processes

step "end to end: the production build in Chromium"
npx playwright test

step "frontend budgets: Lighthouse on the production build"
node scripts/lighthouse-budgets.mjs
