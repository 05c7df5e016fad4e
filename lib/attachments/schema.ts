import { z } from "zod";
import { isoDateSchema } from "@/lib/batches/schema";

const MIB = 1024 * 1024;

/** What the farmer's phone may send, by kind: photos are re-encoded, certificates kept byte for byte. */
export const ACCEPTED_TYPES = {
  photo: ["image/jpeg", "image/png", "image/webp"],
  certificate: ["application/pdf"],
} as const;

export const MAX_BYTES = { photo: 12 * MIB, certificate: 10 * MIB } as const;
export const MAX_PDF_PAGES = 50;
/** Past this many pixels an image is refused unread: a 16000x16000 PNG decodes to about 1 GB. */
export const MAX_IMAGE_PIXELS = 48_000_000;
/** The long edge of a stored photo, and of its thumbnail. */
export const PHOTO_EDGE = 2000;
export const THUMB_EDGE = 480;

const text = (max: number) => z.string().trim().min(1).max(max);

export const certificateSchema = z
  .object({
    issuer: text(160),
    number: text(80),
    scope: text(300),
    validFrom: isoDateSchema,
    validUntil: isoDateSchema,
  })
  .refine((value) => value.validUntil >= value.validFrom, {
    path: ["validUntil"],
    message: "must be on or after validFrom",
  });

const declared = {
  id: z.uuid(),
  fileName: z.string().trim().min(1).max(255).optional(),
  type: z.string().trim().toLowerCase().min(1).max(100),
  size: z
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
};

export const declareAttachmentSchema = z.discriminatedUnion("kind", [
  z.object({ ...declared, kind: z.literal("photo") }),
  z.object({ ...declared, kind: z.literal("certificate"), certificate: certificateSchema }),
]);

export type DeclareAttachmentInput = z.infer<typeof declareAttachmentSchema>;
export type CertificateInput = z.infer<typeof certificateSchema>;

export const attachmentIdSchema = z.uuid();
