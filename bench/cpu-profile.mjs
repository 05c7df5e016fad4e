import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import path from "node:path";

// Preloaded (NODE_OPTIONS=--import) by `npm run bench:uploads -- --cpu-prof` into the servers it measures: Node 20 does
// not take --cpu-prof from NODE_OPTIONS. SIGUSR2 starts the inspector's sampling profiler on the main thread; the next
// SIGUSR2 stops it and writes CPU_PROFILE_DIR/<pid>-<n>.cpuprofile (Chrome's DevTools opens it).
const directory = process.env.CPU_PROFILE_DIR ?? ".";
const session = new Session();
session.connect();
session.post("Profiler.enable");
session.post("Profiler.setSamplingInterval", { interval: 500 });
let running = false;
let written = 0;

process.on("SIGUSR2", () => {
  if (!running) {
    running = true;
    session.post("Profiler.start");
    return;
  }
  running = false;
  session.post("Profiler.stop", (error, result) => {
    if (error) return;
    mkdirSync(directory, { recursive: true });
    written += 1;
    writeFileSync(path.join(directory, `${process.pid}-${written}.cpuprofile`), JSON.stringify(result.profile));
  });
});
