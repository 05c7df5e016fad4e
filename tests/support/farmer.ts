import { randomUUID } from "node:crypto";
import type pg from "pg";
import { createSessionCookie } from "@/lib/auth/session";

/** A farmer with a farm, made in the database the server uses, and the session cookie it would sign in with. */
export async function farmerWithFarm(sql: pg.Pool): Promise<{ owner: string; farmId: number; cookie: string }> {
  const owner = `0x${randomUUID().replaceAll("-", "").padEnd(40, "0")}`;
  await sql.query("INSERT INTO users (address, role) VALUES ($1, 'farmer')", [owner]);
  const farm = await sql.query<{ id: number }>(
    `INSERT INTO farms (name, region, country, latitude, longitude, owner_address)
     VALUES ('Test Farm', 'Test Valley', 'NL', 52.1, 4.3, $1) RETURNING id`,
    [owner],
  );
  const cookie = (await createSessionCookie(owner)).split(";")[0] ?? "";
  return { owner, farmId: farm.rows[0]?.id ?? 0, cookie };
}
