// @ts-check
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { serwist } from "@serwist/next/config";

const STATIC_FILE = /static\/[\w\-./]+\.(?:js|css|woff2?)/g;

/**
 * The static files the prerendered pages (the farmer app shell and the offline page) load, and the chunks those
 * import on demand. Precaching only
 * these, not every chunk of every page, keeps the install to what works offline; the rest is cached on use.
 * The `noModule` polyfills are left out: every browser with a service worker runs modules and never fetches them,
 * and precaching them cost each first visit (a consumer's first scan) 112 KB and the compile of a code cache.
 */
function shellAssets() {
  const appDir = ".next/server/app";
  const pages = readdirSync(appDir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".html") && !/_not-found|_global-error/.test(file))
    .map((file) => path.join(appDir, file));
  const referenced = new Set();
  const legacy = new Set();
  for (const page of pages) {
    const html = readFileSync(page, "utf8");
    for (const match of html.matchAll(STATIC_FILE)) referenced.add(match[0]);
    for (const tag of html.matchAll(/<script\b[^>]*\bnoModule\b[^>]*>/gi)) {
      for (const match of tag[0].matchAll(STATIC_FILE)) legacy.add(match[0]);
    }
  }
  const shell = new Set([...referenced].filter((file) => !legacy.has(file)));
  // What those chunks import on demand (the batch form's validation, say) must work offline too.
  for (const file of shell) {
    if (!file.endsWith(".js")) continue;
    for (const match of readFileSync(path.join(".next", file), "utf8").matchAll(STATIC_FILE)) {
      if (!legacy.has(match[0])) shell.add(match[0]);
    }
  }
  return shell;
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
