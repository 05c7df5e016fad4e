import { randomUUID } from "node:crypto";
import pg from "pg";

export type ScratchDatabase = { url: string; drop(): Promise<void> };

/** A database of its own on a real PostgreSQL server, dropped after. */
export async function createScratchDatabase(adminUrl: string, prefix = "gl_test"): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomUUID().replaceAll("-", "")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } catch (error) {
    await admin.end();
    throw error;
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

export function assertLocal(url: string): void {
  const host = new URL(url).hostname;
  if (!["127.0.0.1", "localhost", "::1", "[::1]"].includes(host)) {
    throw new Error(`Tests refuse to touch a non-local database or cache (${host}).`);
  }
}
