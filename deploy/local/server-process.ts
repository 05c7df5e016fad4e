import path from "node:path";
import { type Child, start, waitReady } from "@/bench/processes";
import { freePorts } from "@/scripts/free-port.mjs";
import { SERVER_ARGS } from "@/scripts/server-command.mjs";

export type ServerProcess = { child: Child; baseUrl: string; port: number };

/**
 * The production server (server.ts on the last build) as its own process on free ports, with rate limits out of a
 * load generator's way and no demo data; `env` adds or overrides settings (DATABASE_URL, ROLE, ...). Resolves once
 * /api/ready answers 200.
 */
export async function startServerProcess(
  name: string,
  logDir: string,
  env: Record<string, string>,
  fixedPort?: number,
): Promise<ServerProcess> {
  const [freePort, chainPort] = (await freePorts(2)) as [number, number];
  const port = fixedPort ?? freePort;
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = start(name, process.execPath, SERVER_ARGS, {
    logDir,
    env: {
      NODE_ENV: "production",
      TSX_TSCONFIG_PATH: "tsconfig.server.json",
      DATABASE_READ_URL: "",
      DATABASE_ANALYTICS_URL: "",
      REDIS_URL: "",
      DATA_DIR: path.join(logDir, name),
      HOST: "127.0.0.1",
      PORT: String(port),
      PUBLIC_BASE_URL: baseUrl,
      EMBEDDED_CHAIN_PORT: String(chainPort),
      DEMO_DATA: "false",
      // No balancer to warn before it stops listening.
      SHUTDOWN_NOTICE_SECONDS: "0",
      CACHE_WARM_TOKENS: "0",
      RATE_LIMIT_PUBLIC_POINTS: "100000000",
      RATE_LIMIT_WRITE_POINTS: "100000000",
      LOG_LEVEL: "info",
      ...env,
    },
  });
  await waitReady(child, `${baseUrl}/api/ready`, 90_000);
  return { child, baseUrl, port };
}
