import pino from "pino";
import { env } from "@/lib/env.mjs";

export const log = pino({ level: env.LOG_LEVEL, base: { app: "greenledger" } });
