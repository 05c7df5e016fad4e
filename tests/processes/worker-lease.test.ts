import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { createPublicClient, createTestClient, http, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PgCluster, pgCluster } from "@/deploy/local/pg-cluster";
import { type RedisServer, startRedisServer } from "@/deploy/local/redis-server";
import { type ServerProcess, startServerProcess } from "@/deploy/local/server-process";
import { type AnvilInstance, startAnvil } from "@/lib/chain/anvil";
import { deployCropBatch } from "@/lib/chain/deploy-crop-batch";
import { WORKER_LEASE_KEY } from "@/lib/runtime/worker";
import { compareWithContract, connect, devAccount, privateKeyOf } from "@/tests/chain/support/chain-world";
import { newBatch } from "@/tests/support/api";
import { farmerWithFarm } from "@/tests/support/farmer";
import { until } from "@/tests/support/until";

const LEASE_TIMEOUT_SECONDS = 3;
const CHAIN_ID = 31337;

// Two workers and a web instance on a PostgreSQL, a Redis and an anvil of the test's own: one chain, one database.
describe("worker lease: the singletons run in exactly one worker", () => {
  let cluster: PgCluster;
  let redis: RedisServer;
  let anvil: AnvilInstance;
  let sql: pg.Pool;
  let sharedEnv: Record<string, string>;
  let contract: `0x${string}`;
  let databaseUrl: string;
  const workers: ServerProcess[] = [];
  let web: ServerProcess;
  const logDir = mkdtempSync(path.join(tmpdir(), "gl-lease-"));

  const startWorker = async (name: string) => {
    const worker = await startServerProcess(name, logDir, { ...sharedEnv, ROLE: "worker" });
    workers.push(worker);
    return worker;
  };

  /** The pids of the lease's sessions: who holds it, and how many workers are connected to ask for it. */
  const lease = async () => {
    const { rows } = await sql.query<{ application_name: string; holds: boolean }>(
      `SELECT a.application_name,
              EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.objid = $1
                      AND l.granted) AS holds
         FROM pg_stat_activity a WHERE a.application_name LIKE 'greenledger-lease %'`,
      [WORKER_LEASE_KEY],
    );
    const pidOf = (name: string) => Number(name.split(" ").at(-1));
    return {
      holders: rows.filter((row) => row.holds).map((row) => pidOf(row.application_name)),
      sessions: rows.map((row) => pidOf(row.application_name)),
    };
  };
  const holder = async () => {
    const { holders } = await lease();
    return holders.length === 1 ? holders[0] : undefined;
  };

  beforeAll(async () => {
    if (!existsSync(".next/BUILD_ID")) throw new Error("This test runs the production server: `npm run build` first");
    cluster = pgCluster();
    const { url } = await cluster.start();
    databaseUrl = url;
    redis = await startRedisServer();
    // Blocks keep coming, so a transaction gets its confirmation without anyone mining on demand.
    anvil = await startAnvil({ port: 0, chainId: CHAIN_ID, blockTime: 1 });
    const relayerKey = generatePrivateKey();
    const relayer = privateKeyToAccount(relayerKey).address;
    const deployed = await deployCropBatch({
      rpcUrl: anvil.rpcUrl,
      deployerKey: privateKeyOf(devAccount(0)),
      relayer,
    });
    contract = deployed.address;
    await createTestClient({ mode: "anvil", transport: http(anvil.rpcUrl) }).setBalance({
      address: relayer,
      value: parseEther("100"),
    });
    sharedEnv = {
      DATABASE_URL: url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: "lease-test:",
      CHAIN_RPC_URL: anvil.rpcUrl,
      CHAIN_ID: String(CHAIN_ID),
      CROP_BATCH_ADDRESS: contract,
      CHAIN_START_BLOCK: String(deployed.blockNumber),
      CHAIN_CONFIRMATIONS: "1",
      RELAYER_PRIVATE_KEY: relayerKey,
      LEASE_TIMEOUT_SECONDS: String(LEASE_TIMEOUT_SECONDS),
    };
    await startWorker("worker-a");
    await startWorker("worker-b");
    // The web instance never signs, so it is not given the relayer's key.
    const { RELAYER_PRIVATE_KEY: _, ...webEnv } = sharedEnv;
    web = await startServerProcess("web", logDir, { ...webEnv, ROLE: "web" });
    sql = new pg.Pool({ connectionString: url, max: 2 });
    sql.on("error", () => undefined);
  }, 180_000);

  afterAll(async () => {
    await sql?.end();
    for (const process of [web, ...workers]) {
      if (process) await process.child.stop();
    }
    await anvil?.stop();
    await redis?.stop();
    await cluster?.destroy();
    if (!process.env.KEEP_LOGS) rmSync(logDir, { recursive: true, force: true });
  });

  it("hands over within 5 s when the leader is killed or frozen, and the chain agrees with every batch", async () => {
    const { farmId, cookie } = await farmerWithFarm(sql);
    const tokenIds: bigint[] = [];
    const create = async (count: number) => {
      for (let index = 0; index < count; index += 1) {
        const response = await fetch(`${web.baseUrl}/api/crop-batches`, {
          method: "POST",
          headers: { "content-type": "application/json", cookie },
          body: JSON.stringify(newBatch(farmId, { cropType: "lease-leek" })),
        });
        expect(response.status).toBe(201);
        tokenIds.push(BigInt(((await response.json()) as { tokenId: number }).tokenId));
      }
    };
    const allFinal = async () => {
      const { rows } = await sql.query(
        "SELECT 1 FROM crop_batches WHERE token_id = ANY($1) AND chain_status = 'final'",
        [tokenIds.map(String)],
      );
      return rows.length === tokenIds.length;
    };
    const byPid = (pid: number | undefined) => workers.find((worker) => worker.child.pid === pid);

    await until(async () => (await lease()).sessions.length === 2 && (await holder()) !== undefined);
    const first = await holder();
    expect(workers.slice(0, 2).map((worker) => worker.child.pid)).toContain(first);
    await create(3);
    await until(allFinal, 30_000);

    // kill -9: the session ends with the process, and the standby asks again within a second.
    await byPid(first)?.child.kill();
    const killedAt = Date.now();
    await until(async () => {
      const now = await holder();
      return now !== undefined && now !== first;
    }, 10_000);
    const killTakeoverMs = Date.now() - killedAt;
    const second = await holder();
    await create(3);
    await until(allFinal, 30_000);

    // SIGSTOP: the frozen leader's session is ended by idle_session_timeout, and the standby takes the lease.
    const third = await startWorker("worker-c");
    await until(async () => (await lease()).sessions.includes(third.child.pid));
    const frozen = byPid(second);
    if (!frozen) throw new Error("no process holds the lease");
    process.kill(frozen.child.pid, "SIGSTOP");
    const frozenAt = Date.now();
    await until(async () => (await holder()) === third.child.pid, 10_000);
    const freezeTakeoverMs = Date.now() - frozenAt;
    await create(3);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10_000 - (Date.now() - frozenAt))));
    process.kill(frozen.child.pid, "SIGCONT");
    // Back, it finds its heartbeat too old, stops its singletons and asks again as a standby.
    await until(async () => (await lease()).sessions.includes(frozen.child.pid), 10_000);
    expect(await holder()).toBe(third.child.pid);
    expect(readFileSync(frozen.child.logFile, "utf8")).toContain("lease given up");
    await create(3);
    await until(allFinal, 30_000);

    // A transaction may carry several batches' jobs; each nonce is used once and every transaction was mined.
    const sent = await sql.query<{ nonce: number; status: string }>(
      "SELECT nonce, status FROM chain_transactions ORDER BY nonce",
    );
    expect(sent.rows.map((row) => row.nonce)).toEqual(sent.rows.map((_, index) => index));
    expect(sent.rows.every((row) => row.status === "mined")).toBe(true);
    const { db, close } = connect(databaseUrl);
    try {
      const client = createPublicClient({ transport: http(anvil.rpcUrl), cacheTime: 0 });
      const { mismatches, compared } = await compareWithContract(db, { chainId: CHAIN_ID, client, contract }, tokenIds);
      expect(mismatches).toEqual([]);
      expect(compared).toBe(tokenIds.length);
    } finally {
      await close();
    }
    expect(killTakeoverMs).toBeLessThanOrEqual(5_000);
    expect(freezeTakeoverMs).toBeLessThanOrEqual(5_000);
    console.log(JSON.stringify({ killTakeoverMs, freezeTakeoverMs, batches: tokenIds.length }));
  });
});
