import { parseWith } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { getBatchOrThrow } from "@/lib/batches/get-batch-or-throw";
import { tokenIdSchema } from "@/lib/batches/schema";
import { labelSvg } from "@/lib/verify/label-svg";

/** The batch's QR label as a file, for printing at any size. */
export const GET = route<{ tokenId: string }>("public", async ({ params }) => {
  const tokenId = parseWith(tokenIdSchema, params.tokenId, "tokenId");
  await getBatchOrThrow(tokenId);
  return new Response(await labelSvg(tokenId, 512), {
    headers: {
      "content-type": "image/svg+xml",
      "content-disposition": `attachment; filename="greenledger-batch-${tokenId}.svg"`,
    },
  });
});
