import type pg from "pg";

/** True once the primary's one streaming replica has replayed everything the primary has written. */
export async function replicaCaughtUp(primary: pg.Pool): Promise<boolean> {
  const { rows } = await primary.query<{ state: string; lag: string | null }>(
    "SELECT state, (pg_current_wal_lsn() - replay_lsn)::text AS lag FROM pg_stat_replication",
  );
  return rows[0]?.state === "streaming" && rows[0]?.lag === "0";
}
