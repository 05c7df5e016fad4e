import { route } from "@/lib/api/handler";
import { issueNonce } from "@/lib/auth/siwe";

export const GET = route("public", async () => {
  const { nonce, expiresAt } = await issueNonce();
  return Response.json({ nonce, expiresAt: expiresAt.toISOString() }, { headers: { "Cache-Control": "no-store" } });
});
