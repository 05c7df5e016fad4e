import { route } from "@/lib/api/handler";
import { clearSessionCookie } from "@/lib/auth/session";

export const POST = route(
  "public",
  async () => new Response(null, { status: 204, headers: { "Set-Cookie": clearSessionCookie() } }),
);
