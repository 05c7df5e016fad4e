import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineConfig } from "@playwright/test";
import {
  BASE_URL,
  DEMO_BATCHES,
  EMBEDDED_CHAIN_PORT,
  EMBEDDED_DB_PORT,
  HOST,
  PORT,
  PUBLIC_BASE_URL,
  SESSION_SECRET,
} from "./tests/e2e/support/server";

/** A fresh embedded database per run. Workers load this file too and inherit the runner's env, so only the runner creates it. */
function runDataDir(): string {
  const inherited = process.env.GL_E2E_DATA_DIR;
  if (inherited) return inherited;
  const created = mkdtempSync(path.join(os.tmpdir(), "greenledger-e2e-"));
  process.env.GL_E2E_DATA_DIR = created;
  // "exit" fires after the web server has been stopped.
  process.on("exit", () => rmSync(created, { recursive: true, force: true }));
  return created;
}

export default defineConfig({
  testDir: "./tests/e2e",
  outputDir: "./test-results/artifacts",
  // One worker: the write checks compare whole-database counts, and the embedded engine runs one query at a time anyway.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  reporter: [["list"], ["html", { open: "never", outputFolder: "./test-results/html-report" }]],
  use: {
    baseURL: BASE_URL,
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    {
      name: "ui",
      testMatch: "ui/**/*.spec.ts",
      use: { browserName: "chromium", viewport: { width: 1280, height: 800 } },
    },
    { name: "api", testMatch: "api/**/*.spec.ts" },
    {
      name: "marketplace",
      testMatch: "marketplace/**/*.spec.ts",
      use: { browserName: "chromium", viewport: { width: 1280, height: 800 } },
    },
    {
      name: "wallet",
      testMatch: "wallet/**/*.spec.ts",
      use: { browserName: "chromium", viewport: { width: 1280, height: 800 } },
    },
    {
      name: "analytics",
      testMatch: "analytics/**/*.spec.ts",
      use: { browserName: "chromium", viewport: { width: 1280, height: 800 } },
    },
    {
      name: "verify",
      testMatch: "verify/**/*.spec.ts",
      use: { browserName: "chromium", viewport: { width: 1280, height: 800 }, javaScriptEnabled: false },
    },
    {
      name: "tracking",
      testMatch: "tracking/**/*.spec.ts",
      // A phone: the transporter shares the trip from it.
      use: { browserName: "chromium", viewport: { width: 390, height: 844 }, hasTouch: true },
    },
    {
      name: "pwa",
      testMatch: "pwa/**/*.spec.ts",
      // Each test waits out real retries and a worker install; the default 30 s is too tight on a shared box.
      timeout: 120_000,
      use: {
        browserName: "chromium",
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 2,
        hasTouch: true,
        serviceWorkers: "allow",
      },
    },
  ],
  webServer: {
    command: "npm run serve",
    url: `${BASE_URL}/api/health`,
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 15_000 },
    env: {
      DATA_DIR: runDataDir(),
      // Pinned so an ambient setting cannot point the run at a real database, Redis or admin list.
      DATABASE_URL: "",
      DATABASE_READ_URL: "",
      DATABASE_ANALYTICS_URL: "",
      REDIS_URL: "",
      ADMIN_ADDRESSES: "",
      DEMO_DATA: "true",
      // No balancer to warn before it stops listening.
      SHUTDOWN_NOTICE_SECONDS: "0",
      HOST,
      PORT: String(PORT),
      EMBEDDED_DB_PORT: String(EMBEDDED_DB_PORT),
      EMBEDDED_CHAIN_PORT: String(EMBEDDED_CHAIN_PORT),
      PUBLIC_BASE_URL,
      DEMO_BATCHES: String(DEMO_BATCHES),
      LOG_LEVEL: "warn",
      // The operations page's figures are read every second, not every 15 s.
      SLA_MONITOR_INTERVAL_SECONDS: "1",
      SESSION_SECRET,
      // The scan-anomaly check is driven with X-Forwarded-For, as if behind a proxy.
      TRUST_PROXY: "true",
      // No test fetches map tiles from the internet: the live map draws the route on a plain background.
      MAP_TILE_URL: "",
    },
  },
});
