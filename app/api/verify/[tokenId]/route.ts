import { parseWith } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { tokenIdSchema } from "@/lib/batches/schema";
import { getVerification } from "@/lib/verify/get-verification";
import { verificationAnswer } from "@/lib/verify/verification-response";

export const GET = route<{ tokenId: string }>("public", async ({ request, params }) => {
  const tokenId = parseWith(tokenIdSchema, params.tokenId, "tokenId");
  const answer = verificationAnswer(await getVerification(tokenId), request.headers.get("if-none-match"));
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
});
