// Imported first by bench/uploads.ts, before anything reads lib/env.mjs: the bench signs the farmer's cookie with the
// secret it gives every server.
process.env.SESSION_SECRET ??= "bench-uploads-session-secret-0123456789abcdef";
