import { describe, expect, it } from "vitest";
import {
  type CapturedFile,
  captureProblem,
  certificateProblems,
  classifyAttachmentReply,
  classifyUploadFailure,
  declaration,
  type FileStep,
  fromAttachment,
  isFileDue,
  newPendingFile,
} from "./file-outbox-state";
import { afterAttempt, type Outcome } from "./outbox-state";

let counter = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++counter).padStart(12, "0")}`;
const photo: CapturedFile = {
  kind: "photo",
  type: "image/jpeg",
  fileName: "field.jpg",
  bytes: new ArrayBuffer(300_000),
  certificate: null,
};
const certificate = {
  issuer: "EcoCert",
  number: "EC-1",
  scope: "Organic tomatoes",
  validFrom: "2026-01-01",
  validUntil: "2026-12-31",
};
/** A step that ends the try, as the replay records it. */
function outcomeOf(step: FileStep): Outcome {
  if (step.kind === "upload" || step.kind === "check") throw new Error(`not an outcome: ${step.kind}`);
  return step;
}
const attachment = (status: string, extra: Record<string, unknown> = {}) => ({
  id: "a",
  status,
  reason: null,
  uploadUrl: null,
  ...extra,
});

describe("a file waiting on the phone", () => {
  it("fixes its client id when it is kept, and waits for its batch's token id", () => {
    const file = newPendingFile(photo, { batchClientId: "batch-1" }, 1_000, uuid);
    expect(file).toMatchObject({
      kind: "photo",
      size: 300_000,
      tokenId: null,
      batchClientId: "batch-1",
      status: "pending",
      attempts: 0,
      sentBytes: 0,
    });
    expect(isFileDue(file, 1_000, true)).toBe(false);
    expect(isFileDue({ ...file, tokenId: 7 }, 1_000)).toBe(true);
  });

  it("declares the same attachment on every try", () => {
    const file = newPendingFile(
      { ...photo, kind: "certificate", type: "application/pdf", certificate },
      { tokenId: 7 },
      0,
      uuid,
    );
    const first = declaration(file);
    const retried = declaration(
      afterAttempt(file, { kind: "retry", error: { status: null, code: "network", message: "x" } }, 0, 0.5) ?? file,
    );
    expect(retried).toEqual(first);
    expect(first).toEqual({
      id: file.id,
      kind: "certificate",
      type: "application/pdf",
      size: 300_000,
      fileName: "field.jpg",
      certificate,
    });
  });

  it("uploads what the declaration still wants, resuming an upload already started", () => {
    const url = "/api/uploads/a";
    expect(classifyAttachmentReply(201, attachment("declared", { uploadUrl: url }))).toEqual({
      kind: "upload",
      uploadUrl: url,
      resume: false,
    });
    expect(classifyAttachmentReply(200, attachment("uploading", { uploadUrl: url }))).toEqual({
      kind: "upload",
      uploadUrl: url,
      resume: true,
    });
  });

  it("leaves the phone once the server has the bytes (received or ready), never sending them again", () => {
    expect(classifyAttachmentReply(200, attachment("received"))).toEqual({ kind: "delivered" });
    expect(classifyAttachmentReply(200, attachment("ready"))).toEqual({ kind: "delivered" });
    const file = newPendingFile(photo, { tokenId: 7 }, 0, uuid);
    expect(afterAttempt(file, { kind: "delivered" }, 0, 0.5)).toBeNull();
  });

  it("needs attention with the server's reason when the file is refused, and is not sent again by itself", () => {
    const step = fromAttachment({ status: "rejected", reason: "The file is not a PDF.", uploadUrl: null });
    expect(step).toMatchObject({ kind: "rejected", error: { message: "The file is not a PDF." } });
    const file = newPendingFile(photo, { tokenId: 7 }, 0, uuid);
    const refused = afterAttempt(file, outcomeOf(step), 0, 0.5);
    expect(refused).toMatchObject({ status: "needs-attention", attempts: 1 });
    expect(isFileDue(refused ?? file, Number.MAX_SAFE_INTEGER, true)).toBe(false);
    expect(fromAttachment({ status: "expired", reason: null, uploadUrl: null }).kind).toBe("rejected");
    const tooBig = { error: { code: "payload_too_large", message: "This photo is 13.0 MiB" } };
    expect(classifyAttachmentReply(413, tooBig)).toMatchObject({ kind: "rejected", error: tooBig.error });
    expect(classifyAttachmentReply(422, { error: { code: "client_id_reused", message: "x" } }).kind).toBe("rejected");
  });

  it("retries network failures and 5xx with backoff, and pauses when signed out", () => {
    expect(classifyAttachmentReply(503, { error: { code: "service_unavailable", message: "x" } }).kind).toBe("retry");
    expect(classifyAttachmentReply(200, "<html>").kind).toBe("retry");
    expect(classifyAttachmentReply(401, null).kind).toBe("signed-out");
    const file = newPendingFile(photo, { tokenId: 7 }, 0, uuid);
    const step = classifyUploadFailure(null, "", "tus: failed to upload chunk at offset 262144");
    expect(step).toMatchObject({ kind: "retry", error: { code: "network" } });
    const after = afterAttempt(file, outcomeOf(step), 0, 0.5);
    expect(after).toMatchObject({ status: "pending", attempts: 1, nextAttemptAt: 1_000 });
    expect(classifyUploadFailure(502, "", "x").kind).toBe("retry");
  });

  it("reads an upload's refusal in the one error shape, and a 409 as 'ask where it stands'", () => {
    const refused = JSON.stringify({ error: { code: "unsupported_media_type", message: "The file is not a PDF." } });
    expect(classifyUploadFailure(415, refused, "x")).toMatchObject({
      kind: "rejected",
      error: { status: 415, code: "unsupported_media_type", message: "The file is not a PDF." },
    });
    expect(classifyUploadFailure(409, "", "x")).toEqual({ kind: "check" });
    expect(classifyUploadFailure(401, "", "x").kind).toBe("signed-out");
  });
});

describe("what the phone keeps", () => {
  it("takes photos and PDFs within the server's limits", () => {
    expect(captureProblem("photo", "image/jpeg", 300_000)).toBeNull();
    expect(captureProblem("photo", "image/heic", 300_000)).toMatch(/JPEG/);
    expect(captureProblem("photo", "image/jpeg", 13 * 1024 * 1024)).toMatch(/larger than 12 MB/);
    expect(captureProblem("certificate", "application/pdf", 1_000)).toBeNull();
    expect(captureProblem("certificate", "text/plain", 1_000)).toMatch(/PDF/);
    expect(captureProblem("certificate", "application/pdf", 0)).toMatch(/empty/);
  });

  it("checks a certificate's details as the server does", () => {
    expect(certificateProblems(certificate)).toEqual({});
    expect(
      certificateProblems({ issuer: " ", number: "x".repeat(81), scope: "s", validFrom: "", validUntil: "2026-01-01" }),
    ).toEqual({ issuer: "Required", number: "At most 80 characters", validFrom: "Enter a date" });
    expect(certificateProblems({ ...certificate, validUntil: "2025-12-31" })).toEqual({
      validUntil: "Must be on or after the start date",
    });
  });
});
