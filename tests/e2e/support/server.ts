/** One place for the test server's settings: playwright.config.ts starts it with these, the helpers talk to it. */
// E2E_PORT_BASE moves all three ports, so two checkouts on one machine can run the suite side by side.
const base = Number(process.env.E2E_PORT_BASE ?? 0);
export const PORT = 3100 + base;
export const HOST = "127.0.0.1";
// Below Linux's ephemeral range (32768-60999), where a client connection could already hold a fixed port.
export const EMBEDDED_DB_PORT = 15339 + base;
export const EMBEDDED_CHAIN_PORT = 15539 + base;
export const BASE_URL = `http://${HOST}:${PORT}`;
// The SIWE domain is the host of PUBLIC_BASE_URL, which need not be the address the client connects to.
export const PUBLIC_BASE_URL = `http://localhost:${PORT}`;
export const DEMO_BATCHES = 300;
export const DEMO_FARMS = 40;
export const SESSION_SECRET = "greenledger-e2e-session-secret-not-for-production-0001";
/** The demo farmer owns the first five farms (lib/demo/seed-demo-data.ts). */
export const FARMER_FARM_IDS = [1, 2, 3, 4, 5] as const;
/** Every batch the e2e suite creates has this crop type, so it can be told apart from the demo data. */
export const E2E_CROP = "e2e-tomato";
