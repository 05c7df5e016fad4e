// Imported first by bench/live.ts, before anything reads lib/env.mjs: the bench signs its watchers' cookies with the
// secret it gives every server.
process.env.SESSION_SECRET ??= "bench-live-session-secret-0123456789abcdef";
