import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));
const alias = {
  "@/": root,
  // Next resolves `server-only` to an empty module in server code; plain Node would throw.
  "server-only": fileURLToPath(new URL("./lib/server-only-shim.ts", import.meta.url)),
};

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: { name: "unit", include: ["lib/**/*.test.ts", "deploy/**/*.test.ts"], environment: "node" },
      },
      {
        resolve: { alias },
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["tests/support/global-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "postgres",
          include: ["tests/postgres/**/*.test.ts"],
          environment: "node",
          globalSetup: ["tests/support/global-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 180_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "chain",
          include: ["contracts/**/*.test.ts", "tests/chain/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "processes",
          include: ["tests/processes/**/*.test.ts"],
          // Each file starts servers of its own; side by side on two cores they would time each other's takeovers.
          fileParallelism: false,
          environment: "node",
          // Shared with the server the test starts, so the test can sign its session cookie.
          env: { LOG_LEVEL: "silent", SESSION_SECRET: "greenledger-processes-session-secret-0001" },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        resolve: { alias },
        test: { name: "schema", include: ["prisma/**/*.test.ts"], environment: "node", testTimeout: 30_000 },
      },
    ],
  },
});
