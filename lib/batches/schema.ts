import { z } from "zod";
import { SEARCH_SORTS } from "@/lib/batches/sorts";
import { UNITS } from "@/lib/batches/units";

const DAY_MS = 24 * 60 * 60 * 1000;

export const addressSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte EVM address")
  .transform((value) => value.toLowerCase());

/** A token id as text: a positive whole number, no leading zero. */
export const TOKEN_ID_TEXT = /^[1-9][0-9]{0,15}$/;

export const tokenIdSchema = z
  .string()
  .regex(TOKEN_ID_TEXT, "must be a positive whole number")
  .transform(Number)
  .refine(Number.isSafeInteger, "is too large");

// PostgreSQL has no year 0: bound every date a caller sends to a plausible range.
export const isoDateSchema = z.iso
  .date()
  .refine((value) => value >= "1900-01-01" && value <= "9999-12-31", "must be between 1900-01-01 and 9999-12-31");
const isoDate = isoDateSchema;

export const harvestDateSchema = isoDate
  .refine((value) => new Date(`${value}T00:00:00Z`).getTime() <= Date.now() + DAY_MS, "cannot be in the future")
  .refine((value) => value >= "2000-01-01", "must be after 2000-01-01");

const label = (max: number) => z.string().trim().min(1).max(max);

export const metadataSchema = z
  .object({
    certifications: z.array(label(64)).max(20).optional(),
    grade: label(32).optional(),
    organic: z.boolean().optional(),
    notes: z.string().max(2000).optional(),
    attributes: z
      .record(z.string().min(1).max(64), z.union([z.string().max(256), z.number().finite(), z.boolean()]))
      .refine((value) => Object.keys(value).length <= 30, "at most 30 attributes")
      .optional(),
  })
  .strict();

/** GS1 check digit: weights 3 and 1 alternate from the rightmost data digit. */
function validGs1CheckDigit(digits: string): boolean {
  let sum = 0;
  for (let index = digits.length - 2, weight = 3; index >= 0; index -= 1, weight = 4 - weight) {
    sum += Number(digits[index]) * weight;
  }
  return (10 - (sum % 10)) % 10 === Number(digits.at(-1));
}

/** GTIN-8/12/13/14, stored and looked up as GTIN-14 so every form of one product number is one key. */
export const gtinSchema = z
  .string()
  .regex(/^(\d{8}|\d{12,14})$/, "must be a GTIN of 8, 12, 13 or 14 digits")
  .refine(validGs1CheckDigit, "has a wrong check digit")
  .transform((value) => value.padStart(14, "0"));

// GS1 AI (10) allows up to 20 characters of the GS1 82-character set (ISO 646 invariant subset).
export const lotSchema = z.string().regex(/^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$/, "must be 1-20 GS1 characters");

export const createBatchSchema = z
  .object({
    clientId: z.uuid(),
    cropType: label(64).transform((value) => value.toLowerCase()),
    variety: label(128).optional(),
    quantity: z.number().positive().max(1_000_000_000).multipleOf(0.001),
    unit: z.enum(UNITS),
    harvestDate: harvestDateSchema,
    farmId: z.number().int().positive().max(2_147_483_647),
    qualityScore: z.number().int().min(0).max(100),
    metadata: metadataSchema.default({}),
    gtin: gtinSchema.optional(),
    lot: lotSchema.optional(),
  })
  .strict()
  .refine((value) => (value.gtin === undefined) === (value.lot === undefined), {
    message: "gtin and lot go together: send both or neither",
    path: ["lot"],
  });

export type CreateBatchInput = z.infer<typeof createBatchSchema>;

const eventBase = {
  eventTime: z.iso
    .datetime({ offset: true })
    .refine((value) => new Date(value).getTime() <= Date.now() + 5 * 60 * 1000, "cannot be in the future")
    .optional(),
  timeZoneOffset: z
    .string()
    .regex(/^[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)$/, "must look like +02:00")
    .optional(),
  location: z
    .object({ lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180) })
    .strict()
    .optional(),
  notes: z.string().max(2000).optional(),
};

export const batchEventSchema = z.discriminatedUnion("action", [
  z.object({ action: z.literal("ship"), transporter: addressSchema.optional(), ...eventBase }).strict(),
  z.object({ action: z.literal("receive"), ...eventBase }).strict(),
  z.object({ action: z.literal("sell"), buyer: addressSchema, ...eventBase }).strict(),
  z.object({ action: z.literal("consume"), ...eventBase }).strict(),
  z.object({ action: z.literal("recall"), reason: label(500), ...eventBase }).strict(),
  z
    .object({
      action: z.literal("inspect"),
      result: z.enum(["conformant", "non_conformant"]),
      qualityScore: z.number().int().min(0).max(100).optional(),
      ...eventBase,
    })
    .strict(),
]);

export type BatchEventInput = z.infer<typeof batchEventSchema>;

export const searchSchema = z
  .object({
    cropType: label(64).optional(),
    cropTypes: z.array(label(64)).min(1).max(20).optional(),
    states: z.array(z.number().int().min(0).max(5)).min(1).max(6).optional(),
    harvestedFrom: isoDate.optional(),
    harvestedTo: isoDate.optional(),
    minQuality: z.number().int().min(0).max(100).optional(),
    certification: label(64).optional(),
    /** Only batches with a certificate attached, processed and valid today. */
    validCertificate: z.literal(true).optional(),
    farmId: z.number().int().positive().max(2_147_483_647).optional(),
    region: label(120).optional(),
    q: z.string().trim().min(2).max(100).optional(),
    sort: z.enum(SEARCH_SORTS).default("newest"),
    limit: z.number().int().min(1).max(100).default(20),
    offset: z.number().int().min(0).max(10_000).optional(),
    cursor: z.string().min(1).max(200).optional(),
  })
  .strict()
  .refine((value) => !(value.cursor && value.offset !== undefined), {
    message: "use either cursor or offset, not both",
    path: ["cursor"],
  })
  .refine((value) => !value.harvestedFrom || !value.harvestedTo || value.harvestedFrom <= value.harvestedTo, {
    message: "must not be after harvestedTo",
    path: ["harvestedFrom"],
  });

export type SearchInput = z.infer<typeof searchSchema>;
