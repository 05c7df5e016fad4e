// How every launcher starts server.ts (npm start, the tests' and the bench's servers; package.json's serve and dev
// spell it out): the tracing preload first, so pg and ioredis are hooked before server.ts imports them.
export const SERVER_ARGS = ["--import", "./lib/observability/tracing/register.mjs", "--import", "tsx", "server.ts"];
