import { dbRead } from "@/lib/db/client";
import type { UserDto } from "@/lib/users/sign-in-user";

export async function getUser(address: string): Promise<UserDto | null> {
  const user = await dbRead.user.findUnique({ where: { address }, select: { address: true, role: true } });
  return user ?? null;
}
