// @ts-check
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { serwist } from "@serwist/next/config";

/**
 * The static files the prerendered pages (the farmer app shell and the offline page) load. Precaching only
 * these, not every chunk of every page, keeps the install to what works offline; the rest is cached on use.
 */
function shellAssets() {
  const appDir = ".next/server/app";
  const pages = readdirSync(appDir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".html") && !/_not-found|_global-error/.test(file))
    .map((file) => path.join(appDir, file));
  const referenced = new Set();
  for (const page of pages) {
    for (const match of readFileSync(page, "utf8").matchAll(/static\/[\w\-./]+\.(?:js|css|woff2?)/g)) {
      referenced.add(match[0]);
    }
  }
  return referenced;
}

// Configurator mode: `serwist build` runs after `next build`, so the prerendered pages are precached with
// content revisions (Turbopack builds cannot run a webpack plugin).
export default await serwist({
  swSrc: "workers/sw.ts",
  swDest: "public/sw.js",
  manifestTransforms: [
    (entries) => {
      const shell = shellAssets();
      const manifest = entries.filter((entry) => {
        const staticPath = /^\.next\/(static\/.+)$/.exec(entry.url)?.[1];
        return !staticPath || shell.has(staticPath);
      });
      return { manifest, warnings: [] };
    },
  ],
});
