import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory, ColumnTypeEnum } from "@prisma/driver-adapter-utils";
import * as bindings from "@prisma/schema-engine-wasm/schema_engine_bg";
import pg from "pg";

// The published .d.ts omits the wasm-bindgen glue that instantiating the module by hand needs.
type WasmBindgenGlue = typeof bindings & { __wbg_set_wasm(exports: WebAssembly.Exports): void };

let engineModule: Promise<typeof bindings> | undefined;

export function loadSchemaEngine(): Promise<typeof bindings> {
  engineModule ??= (async () => {
    const wasmPath = createRequire(import.meta.url)
      .resolve("@prisma/schema-engine-wasm")
      .replace(/schema_engine\.js$/, "schema_engine_bg.wasm");
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), { "./schema_engine_bg.js": bindings });
    (bindings as WasmBindgenGlue).__wbg_set_wasm(instance.exports);
    const start = instance.exports.__wbindgen_start;
    if (typeof start !== "function") throw new Error("schema engine wasm has no __wbindgen_start export");
    start();
    Object.assign(globalThis, {
      PRISMA_WASM_PANIC_REGISTRY: { set_message: (message: string) => console.error(message) },
    });
    return bindings;
  })();
  return engineModule;
}

export async function executeSql(databaseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const CHAR_OID = 18;
const TEXT_OID = 25;
const charColumns = new WeakMap<unknown[], number[]>();

// adapter-pg 7.10.1 rejects PostgreSQL's internal "char" type (pg_constraint.contype, read when CHECK constraints
// exist), which the engine expects as Character: pass it through as text, then restore the column type.
class CharAwarePrismaPg extends PrismaPg {
  override async connect() {
    const adapter = await super.connect();
    const queryRaw = adapter.queryRaw.bind(adapter);
    adapter.queryRaw = async (query) => {
      const result = await queryRaw(query);
      for (const index of charColumns.get(result.rows) ?? []) result.columnTypes[index] = ColumnTypeEnum.Character;
      return result;
    };
    return adapter;
  }
}

function charAwarePool(databaseUrl: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl });
  const query: (config: pg.QueryArrayConfig) => Promise<pg.QueryArrayResult> = pool.query.bind(pool);
  return Object.assign(pool, {
    query: async (config: pg.QueryArrayConfig) => {
      const result = await query(config);
      const chars = result.fields.flatMap((field, index) => (field.dataTypeID === CHAR_OID ? [index] : []));
      for (const field of result.fields) if (field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
      charColumns.set(result.rows, chars);
      return result;
    },
  });
}

export async function diffSql(databaseUrl: string, schema: string): Promise<string> {
  const { SchemaEngine } = await loadSchemaEngine();
  const pool = charAwarePool(databaseUrl);
  const engine = await SchemaEngine.new(
    { datamodels: undefined },
    () => {},
    bindMigrationAwareSqlAdapterFactory(new CharAwarePrismaPg(pool)),
  );
  const files = [{ path: "schema.prisma", content: schema }];
  try {
    const { stdout } = await engine.diff({
      from: { tag: "schemaDatasource", files, configDir: process.cwd() },
      to: { tag: "schemaDatamodel", files },
      script: true,
      exitCode: null,
      filters: { externalTables: [], externalEnums: [] },
    });
    return stdout ?? "";
  } finally {
    engine.free();
    await pool.end();
  }
}

// Prisma recreates these on every diff because it cannot express INCLUDE. Value: what the migrations add to its index.
export const RECREATED_INDEXES: Readonly<Record<string, string>> = {
  crop_batches_crop_harvest_covering_idx: " INCLUDE (quantity, origin_farm, quality_score, metadata)",
};

const recreatedIndex = (statement: string) =>
  Object.keys(RECREATED_INDEXES).find(
    (name) => statement.startsWith(`DROP INDEX "${name}"`) || statement.startsWith(`CREATE INDEX "${name}"`),
  );

function splitStatements(script: string): string[] {
  return script
    .split(/;$/m)
    .map((statement) => statement.replace(/^--.*$/gm, "").trim())
    .filter(Boolean)
    .map((statement) => `${statement};`);
}

async function noOpRecreations(databaseUrl: string, recreations: string[]): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const definitions = async () =>
    new Map(
      (
        await client.query<{ indexname: string; indexdef: string }>(
          "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname = ANY($1)",
          [Object.keys(RECREATED_INDEXES)],
        )
      ).rows.map((row) => [row.indexname, row.indexdef]),
    );
  try {
    await client.query("BEGIN");
    const migrated = await definitions();
    for (const statement of recreations) await client.query(statement);
    const prisma = await definitions();
    const noOps = Object.entries(RECREATED_INDEXES).filter(
      ([name, extra]) => migrated.has(name) && prisma.has(name) && migrated.get(name) === `${prisma.get(name)}${extra}`,
    );
    return new Set(noOps.map(([name]) => name));
  } finally {
    await client.query("ROLLBACK");
    await client.end();
  }
}

export async function migrationDrift(databaseUrl: string, schema: string): Promise<string[]> {
  const statements = splitStatements(await diffSql(databaseUrl, schema));
  const noOps = await noOpRecreations(
    databaseUrl,
    statements.filter((statement) => recreatedIndex(statement)),
  );
  return statements.filter((statement) => !noOps.has(recreatedIndex(statement) ?? ""));
}
