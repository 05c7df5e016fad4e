import { db } from "@/lib/db/client";
import { env } from "@/lib/env.mjs";
import type { Role } from "@/lib/generated/prisma/enums";

export type UserDto = { address: string; role: Role };

export async function signInUser(address: string): Promise<UserDto> {
  const admin = env.ADMIN_ADDRESSES.includes(address);
  const user = await db.user.upsert({
    where: { address },
    create: { address, role: admin ? "admin" : "buyer" },
    // A non-empty update keeps this a native INSERT ... ON CONFLICT, safe for concurrent first sign-ins.
    update: admin ? { role: "admin" } : { address },
  });
  return { address: user.address, role: user.role };
}
