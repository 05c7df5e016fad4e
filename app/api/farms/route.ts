import { readJson } from "@/lib/api/body";
import { route } from "@/lib/api/handler";
import { listFarms, registerFarm, registerFarmSchema } from "@/lib/farms/register-farm";

export const GET = route(["farmer", "admin"], async ({ user }) =>
  Response.json({ farms: await listFarms(user.address) }),
);

export const POST = route(["farmer", "admin"], async ({ request, user }) => {
  const farm = await registerFarm(await readJson(request, registerFarmSchema), user.address);
  return Response.json(farm, { status: 201 });
});
