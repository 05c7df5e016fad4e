import { route } from "@/lib/api/handler";

export const GET = route("signed-in", async ({ user }) =>
  Response.json(user, { headers: { "Cache-Control": "no-store" } }),
);
