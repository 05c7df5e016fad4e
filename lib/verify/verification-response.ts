import { createHash } from "node:crypto";
import { toJson } from "@/lib/cache/tiered-cache";
import type { Verification } from "@/lib/verify/get-verification";

// Next marks every dynamic answer private; a verification is public and the same for everyone, so edges may keep it.
export const VERIFY_CACHE_CONTROL = "public, s-maxage=300, stale-while-revalidate=600";

export function tokenTag(tokenId: number | bigint): string {
  return `token-${tokenId}`;
}

export function cropTag(cropType: string): string {
  return `crop-${cropType.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
}

/** Headers that let a CDN keep a verification and purge it by token or crop type. */
export function verificationCacheHeaders(verification: Verification): Record<string, string> {
  const tags = [tokenTag(verification.tokenId), cropTag(verification.batch.cropType)];
  return { "cache-control": VERIFY_CACHE_CONTROL, "cache-tag": tags.join(","), "surrogate-key": tags.join(" ") };
}

export type RenderedVerification = {
  body: Buffer<ArrayBuffer>;
  headers: Record<string, string>;
  /** A 304's headers: the validators and cache headers, no content type or length. */
  notModified: Record<string, string>;
};

// A cached verification is one object until it is invalidated: serialize, encode and hash it once, not per request.
const rendered = new WeakMap<Verification, RenderedVerification>();

export function renderVerification(verification: Verification): RenderedVerification {
  let result = rendered.get(verification);
  if (!result) {
    const body = Buffer.from(toJson(verification));
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
    const validators = { etag, ...verificationCacheHeaders(verification) };
    // With its length the answer goes out in one write, not chunked.
    const headers = { "content-type": "application/json", "content-length": String(body.length), ...validators };
    result = { body, headers, notModified: validators };
    rendered.set(verification, result);
  }
  return result;
}

/** If-None-Match uses the weak comparison (RFC 9110 13.1.2): a W/ prefix on either side still matches. */
export function matchesEtag(ifNoneMatch: string | null | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === "*") return true;
  return ifNoneMatch.split(",").some((candidate) => candidate.trim().replace(/^W\//, "") === etag);
}

/** 200 with the body, or 304 with the same validators and cache headers when the client already has it. */
export function verificationAnswer(
  verification: Verification,
  ifNoneMatch: string | null | undefined,
): { status: 200 | 304; headers: Record<string, string>; body: Buffer<ArrayBuffer> | null } {
  const { body, headers, notModified } = renderVerification(verification);
  if (!matchesEtag(ifNoneMatch, headers.etag ?? "")) return { status: 200, headers, body };
  return { status: 304, headers: notModified, body: null };
}
