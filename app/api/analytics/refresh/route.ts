import { refreshAnalytics } from "@/lib/analytics/refresh-analytics";
import { route } from "@/lib/api/handler";

export const POST = route(["admin"], async () => Response.json({ rowsWritten: await refreshAnalytics() }));
