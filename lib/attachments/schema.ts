import { z } from "zod";
import { isoDateSchema } from "@/lib/batches/schema";

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
