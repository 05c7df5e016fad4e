import "server-only";
import { headers } from "next/headers";
import { readSession } from "@/lib/auth/session";
import { getUser } from "@/lib/users/get-user";
import type { UserDto } from "@/lib/users/sign-in-user";

/** For server components: the user behind this request's session cookie, or null. */
export async function signedInUser(): Promise<UserDto | null> {
  const session = await readSession((await headers()).get("cookie"));
  return session ? getUser(session.address) : null;
}
