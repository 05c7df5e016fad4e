import { z } from "zod";

// Zod probes `new Function` to compile its parsers; under the CSP (no 'unsafe-eval') the browser reports the probe as
// a violation although zod catches it. Only in the browser: the server keeps the compiled parsers.
if (typeof window !== "undefined") z.config({ jitless: true });
