import type http from "node:http";
import { ApiError } from "@/lib/api/errors";
import { tokenIdSchema } from "@/lib/batches/schema";
import { cachePublicly, listPageCacheHeaders } from "@/lib/http/page-cache";
import { securityHeaders } from "@/lib/http/security-headers";
import { findTokenByGs1 } from "@/lib/verify/find-token-by-gs1";
import { getVerification, type Verification } from "@/lib/verify/get-verification";
import { VERIFY_CACHE_CONTROL, verificationCacheHeaders } from "@/lib/verify/verification-response";

// A phone camera opens these links: small self-contained pages, readable without JavaScript. Next cannot answer 400
// from a page, and its 404 for a dynamic page here needs JavaScript to show its text.
function statusPage(title: string, paragraph: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="theme-color" content="#1f6f43">
<title>${title} · GreenLedger</title><style>
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#17211b;background:#f7f8f4;line-height:1.5}
main{max-width:40rem;margin:0 auto;padding:2rem 1.25rem}h1{color:#154d2f;margin:0 0 .5rem}a{color:#154d2f}
</style></head><body><main><h1>${title}</h1><p>${paragraph}</p>
<p><a href="/">Go to GreenLedger</a></p></main></body></html>`;
}

const badTokenPage = statusPage(
  "This is not a batch code",
  "The link should end in the batch number printed on the label, such as <code>/verify/1234</code>. The code may have been scanned only in part: try scanning it again, or type the number printed under the QR code.",
);
const unknownTokenPage = statusPage(
  "We could not find this batch",
  "No batch has this number. Check the number printed under the QR code; if it matches, the label may not be genuine, and the shop that sold it should know.",
);

function sendPage(request: http.IncomingMessage, response: http.ServerResponse, status: number, page: string): void {
  response.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    ...securityHeaders.staticPage,
  });
  response.end(request.method === "HEAD" ? undefined : page);
}

const verifyPath = /^\/verify\/([^/]*)\/?$/;
const digitalLinkPath = /^\/01\/([^/]+)\/10\/([^/]+)\/?$/;

// The page shows scan counts too, so it gets the verification's cache policy and tags but no ETag of its own.
function verificationPageHeaders(verification: Verification | undefined): Record<string, string> {
  return verification ? verificationCacheHeaders(verification) : { "cache-control": VERIFY_CACHE_CONTROL };
}

/** The verification, null for a token no batch has, undefined when the lookup failed (Next reports that). */
async function lookUp(tokenId: number): Promise<Verification | null | undefined> {
  return getVerification(tokenId).catch((error: unknown) =>
    error instanceof ApiError && error.code === "not_found" ? null : undefined,
  );
}

/**
 * The pages a label's QR code opens (/verify/{id}, GS1 /01/{gtin}/10/{lot}): a bad or unknown batch is answered here
 * (true); otherwise Next renders the page (false), with the verification's cache policy and tags. The public list
 * pages (/marketplace, /analytics) get a shared cache's policy and their surrogate key.
 */
export async function servePage(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  pathname: string,
): Promise<boolean> {
  const verify = pathname.match(verifyPath);
  let verification: Verification | null | undefined;
  if (verify) {
    const tokenId = tokenIdSchema.safeParse(decodeURIComponent(verify[1] ?? ""));
    if (!tokenId.success) {
      sendPage(request, response, 400, badTokenPage);
      return true;
    }
    // getVerification is cached, so the page Next renders next reuses this lookup.
    verification = await lookUp(tokenId.data);
    if (verification === null) {
      sendPage(request, response, 404, unknownTokenPage);
      return true;
    }
  }
  const digitalLink = pathname.match(digitalLinkPath);
  if (digitalLink) {
    // A failed lookup is not an unknown batch: Next renders the page and reports what went wrong.
    const tokenId = await findTokenByGs1(digitalLink[1] ?? "", decodeURIComponent(digitalLink[2] ?? "")).catch(
      () => undefined,
    );
    if (tokenId === null) {
      sendPage(request, response, 404, unknownTokenPage);
      return true;
    }
    // The page shows this token's verification: its tags let a CDN purge the page with it.
    if (tokenId !== undefined) verification = await lookUp(tokenId);
  }
  if (verify || digitalLink) cachePublicly(response, verificationPageHeaders(verification ?? undefined));
  const listHeaders = listPageCacheHeaders(pathname);
  if (listHeaders) cachePublicly(response, listHeaders);
  return false;
}
