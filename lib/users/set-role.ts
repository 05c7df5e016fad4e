import { ApiError } from "@/lib/api/errors";
import { db } from "@/lib/db/client";
import type { Role } from "@/lib/generated/prisma/enums";
import type { UserDto } from "@/lib/users/sign-in-user";

export async function setRole(address: string, role: Role): Promise<UserDto> {
  const updated = await db.user.updateManyAndReturn({ where: { address }, data: { role } });
  const user = updated[0];
  if (!user) throw new ApiError("not_found", "No user has signed in with that address.");
  return { address: user.address, role: user.role };
}
