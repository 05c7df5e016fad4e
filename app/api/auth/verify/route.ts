import { readJson } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { createSessionCookie } from "@/lib/auth/session";
import { signInSchema, verifySignIn } from "@/lib/auth/siwe";

export const POST = route("public", async ({ request }) => {
  const user = await verifySignIn(await readJson(request, signInSchema));
  return Response.json(user, { headers: { "Set-Cookie": await createSessionCookie(user.address) } });
});
