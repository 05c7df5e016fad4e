import { z } from "zod";
import { tokenIdSchema } from "@/lib/batches/schema";

export const offerIdSchema = tokenIdSchema;

export const makeOfferSchema = z.object({ note: z.string().trim().min(1).max(500).optional() }).strict();

export type MakeOfferInput = z.infer<typeof makeOfferSchema>;
