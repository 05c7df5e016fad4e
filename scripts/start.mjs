// `npm start` on a fresh clone: install, build when the sources are newer than the build, then serve.
// Only Node built-ins here: this runs before node_modules exists.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { SERVER_ARGS } from "./server-command.mjs";

const SOURCES = [
  "app",
  "components",
  "lib",
  "public",
  "workers",
  "prisma",
  "next.config.mjs",
  "serwist.config.mjs",
  "package-lock.json",
];
// public/sw.js is the build's own output (serwist build), written after .next/BUILD_ID.
const IGNORED = new Set(["generated", "node_modules", "sw.js", "sw.js.map"]);

/** @param {string} command @param {string[]} args */
function run(command, args) {
  const result = spawnSync(command, args, { stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** @param {string} target @returns {number} */
function newest(target) {
  if (!existsSync(target)) return 0;
  const stats = statSync(target);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return readdirSync(target)
    .filter((name) => !IGNORED.has(name))
    .reduce((latest, name) => Math.max(latest, newest(path.join(target, name))), stats.mtimeMs);
}

process.env.NEXT_TELEMETRY_DISABLED ??= "1";

const installed = existsSync("node_modules/.package-lock.json");
if (!installed || newest("package-lock.json") > newest("node_modules/.package-lock.json")) run("npm", ["ci"]);

const built = newest(".next/BUILD_ID");
const stale = !built || !existsSync("public/sw.js") || SOURCES.some((source) => newest(source) > built);
if (stale) run("npm", ["run", "build"]);

const server = spawn(process.execPath, SERVER_ARGS, {
  stdio: "inherit",
  env: { ...process.env, NODE_ENV: "production", TSX_TSCONFIG_PATH: "tsconfig.server.json" },
});
for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) process.on(signal, () => server.kill(signal));
server.on("exit", (code) => process.exit(code ?? 0));
