import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { env } from "@/lib/env.mjs";

let secret: Uint8Array | undefined;

/** SESSION_SECRET, or one generated on first use and kept in DATA_DIR so sessions survive restarts. */
export function sessionSecret(): Uint8Array {
  if (secret) return secret;
  secret = new TextEncoder().encode(env.SESSION_SECRET ?? readOrCreateSecretFile());
  return secret;
}

function readOrCreateSecretFile(): string {
  const file = path.join(env.dataDir, "session-secret");
  mkdirSync(env.dataDir, { recursive: true });
  try {
    writeFileSync(file, randomBytes(48).toString("base64url"), { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return readFileSync(file, "utf8").trim();
}
