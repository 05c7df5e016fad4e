import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startLocalChain } from "@/deploy/local/chain";
import { type Haproxy, startHaproxy } from "@/deploy/local/haproxy";
import { type PgCluster, pgCluster } from "@/deploy/local/pg-cluster";
import { type RedisServer, startRedisServer } from "@/deploy/local/redis-server";
import { type ServerProcess, startServerProcess } from "@/deploy/local/server-process";
import { s3Env, startSwift } from "@/deploy/local/swift";
import { startVarnish, type Varnish } from "@/deploy/local/varnish";
import type { AnvilInstance } from "@/lib/chain/anvil";
import { freePorts } from "@/scripts/free-port.mjs";

export type Topology = {
  /** The front door (HAProxy). */
  url: string;
  primary: PgCluster;
  replica: PgCluster;
  databaseUrl: string;
  replicaUrl: string;
  redis: RedisServer;
  anvil: AnvilInstance;
  web: ServerProcess[];
  workers: ServerProcess[];
  varnish: Varnish;
  haproxy: Haproxy;
  /** Every process's log (kept after stop()). */
  logDir: string;
  /** Starts another instance of a role with the topology's settings, e.g. on the port of one that was stopped. */
  startInstance(role: "web" | "worker", name: string, port?: number): Promise<ServerProcess>;
  /** Stops everything it started, front to back (the logs stay). */
  stop(): Promise<void>;
};

export type TopologyOptions = {
  /** Demo batches the first worker seeds (0: none). */
  demoBatches?: number;
  /** The front door's port (default: a free one). */
  port?: number;
  /** The replica's recovery_min_apply_delay, e.g. "1s", to show reads that wait for a write. */
  replicaApplyDelay?: string;
  /** The session cookies' secret every instance shares (default: a fresh random one). */
  sessionSecret?: string;
  /** Settings every instance gets on top of the topology's own. */
  env?: Record<string, string>;
  /** Runs on the primary once the replica streams, before any instance starts (the bench seeds its data here). */
  prepare?: (databaseUrl: string) => Promise<void>;
};

/**
 * GreenLedger as many instances on this machine, without containers: a PostgreSQL primary and a streaming replica,
 * Redis, one chain (anvil with CropBatch), two workers, two web instances, Varnish in front of the web instances for
 * the public pages and HAProxy in front of everything. Everything on free loopback ports; logs in `logDir`.
 */
export async function startTopology(options: TopologyOptions = {}): Promise<Topology> {
  const logDir = await mkdtemp(path.join(tmpdir(), "gl-topology-"));
  const started: { stop(): Promise<unknown> }[] = [];
  const stopAll = async () => {
    for (const part of started.reverse()) await part.stop().catch(() => undefined);
  };
  try {
    const [frontPort = 0, varnishPort = 0] = options.port
      ? [options.port, ...(await freePorts(1))]
      : await freePorts(2);
    const primary = pgCluster();
    const primaryInfo = await primary.start();
    started.push({ stop: () => primary.destroy() });
    const replica = pgCluster({ replicaOf: primaryInfo, applyDelay: options.replicaApplyDelay });
    const replicaInfo = await replica.start();
    started.push({ stop: () => replica.destroy() });
    await options.prepare?.(primaryInfo.url);
    const redis = await startRedisServer();
    started.push(redis);
    const chain = await startLocalChain();
    started.push(chain);
    // Instances keep their own DATA_DIR: uploads and stored files must live where every one of them reaches.
    const swift = await startSwift();
    started.push(swift);

    const url = `http://127.0.0.1:${frontPort}`;
    const shared = {
      DATABASE_URL: primaryInfo.url,
      DATABASE_READ_URL: replicaInfo.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: "topology:",
      ...chain.env,
      ...s3Env(swift),
      SESSION_SECRET: options.sessionSecret ?? randomBytes(32).toString("hex"),
      PUBLIC_BASE_URL: url,
      PURGE_URL: `http://127.0.0.1:${varnishPort}/`,
      PURGE_METHOD: "PURGE",
      TRUST_PROXY: "true",
      // HAProxy marks an instance down after two failed checks a second apart.
      SHUTDOWN_NOTICE_SECONDS: "3",
      ...options.env,
    };
    const roleEnv = { web: { ROLE: "web" }, worker: { ROLE: "worker", RELAYER_PRIVATE_KEY: chain.relayerKey } };
    const startInstance = async (
      role: "web" | "worker",
      name: string,
      extra: Record<string, string> = {},
      port?: number,
    ) => {
      const instance = await startServerProcess(name, logDir, { ...shared, ...roleEnv[role], ...extra }, port);
      started.push(instance.child);
      return instance;
    };
    // The first worker migrates and seeds; the others start once the schema is there.
    const demoBatches = options.demoBatches ?? 0;
    const first = await startInstance("worker", "worker1", {
      DEMO_DATA: demoBatches > 0 ? "true" : "false",
      DEMO_BATCHES: String(demoBatches),
    });
    const [second, web1, web2] = await Promise.all([
      startInstance("worker", "worker2"),
      startInstance("web", "web1"),
      startInstance("web", "web2"),
    ]);
    const web = [web1, web2];
    const varnish = await startVarnish(
      varnishPort,
      web.map(({ port }) => ({ host: "127.0.0.1", port })),
    );
    started.push(varnish);
    const haproxy = await startHaproxy(
      frontPort,
      web.map(({ port }) => ({ host: "127.0.0.1", port })),
      { host: "127.0.0.1", port: varnishPort },
    );
    started.push(haproxy);
    return {
      url,
      primary,
      replica,
      databaseUrl: primaryInfo.url,
      replicaUrl: replicaInfo.url,
      redis,
      anvil: chain.anvil,
      web,
      workers: [first, second],
      varnish,
      haproxy,
      logDir,
      startInstance: (role, name, port) => startInstance(role, name, {}, port),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
