import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "@/lib/db/embedded/start-embedded-postgres";

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

describe("embedded PostgreSQL (PGlite over the wire protocol)", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "gl-pglite-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("keeps its data across a restart and lets only one process own the directory", async () => {
    const first = await startEmbeddedPostgres({ dataDir, port: 0 });
    await withClient(first.url, async (client) => {
      await client.query("CREATE TABLE kept (note text)");
      await client.query("INSERT INTO kept VALUES ('survives a restart')");
    });
    await expect(startEmbeddedPostgres({ dataDir, port: 0 })).rejects.toThrow(/is in use by process/);
    await first.stop();

    const second = await startEmbeddedPostgres({ dataDir, port: 0 });
    const rows = await withClient(second.url, (client) => client.query("SELECT note FROM kept"));
    await second.stop();
    expect(rows.rows).toEqual([{ note: "survives a restart" }]);
  });
});
