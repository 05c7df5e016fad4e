import { z } from "zod";
import { parseWith, readJson } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { addressSchema } from "@/lib/batches/schema";
import { Role } from "@/lib/generated/prisma/enums";
import { setRole } from "@/lib/users/set-role";

const bodySchema = z.object({ role: z.enum(Role) }).strict();

export const PUT = route<{ address: string }>(["admin"], async ({ request, params }) => {
  const address = parseWith(addressSchema, params.address, "address");
  const { role } = await readJson(request, bodySchema);
  return Response.json(await setRole(address, role));
});
