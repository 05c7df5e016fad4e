import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { waitForPort } from "@/deploy/local/daemon";
import { freePorts } from "@/scripts/free-port.mjs";

const run = promisify(execFile);

export type Swift = {
  /** The proxy, speaking the S3 API (path-style, SigV4). */
  endpoint: string;
  region: string;
  /** tempauth's account:user. */
  accessKeyId: string;
  secretAccessKey: string;
  /** Created by startSwift(). */
  bucket: string;
  /** Stops every process startSwift() started and removes its folder. */
  stop(): Promise<void>;
};

const REGION = "us-east-1";
const ACCOUNT = "test";
const USER = "tester";
const KEY = "testing";
const BUCKET = "greenledger-test";
const PYTHON = "/usr/bin/python3";
const SERVERS = ["account", "container", "object"] as const;
const OUTPUT_KEPT = 20_000;

// swift-ring-builder starts a Python of its own per step (create, add, rebalance), about a second each: nine of them
// would be most of the startup. One Python does the same steps with the RingBuilder that tool drives.
const BUILD_RINGS = `
import sys
from swift.common.ring import RingBuilder
swift_dir = sys.argv[1]
for spec in sys.argv[2:]:
    name, port = spec.split("=")
    builder = RingBuilder(0, 1, 0)
    builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port), "device": "d1", "weight": 1})
    builder.rebalance()
    builder.get_ring().save(f"{swift_dir}/{name}.ring.gz")
`;

/** Swift runs as root if started as root (workers = 0 never drops privileges): as root, it runs as Debian's `swift`. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const line = (await readFile("/etc/passwd", "utf8")).split("\n").find((entry) => entry.startsWith("swift:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (!uid || !gid) throw new Error("no swift OS user to run Swift as (Debian's swift package makes it)");
  return { uid: Number(uid), gid: Number(gid) };
}

function ini(sections: Record<string, Record<string, string | number | boolean>>): string {
  return Object.entries(sections)
    .map(([name, options]) =>
      [`[${name}]`, ...Object.entries(options).map(([key, value]) => `${key} = ${value}`), ""].join("\n"),
    )
    .join("\n");
}

/**
 * OpenStack Swift (Debian's packages) with its S3 API (s3api + tempauth), one device and one replica, in a temp
 * folder of its own: account, container, object and proxy servers plus a memcached, each on a free loopback port.
 * Swift always reads /etc/swift/swift.conf (its hash suffix and storage policies); everything else is here.
 */
export async function startSwift(): Promise<Swift> {
  const dir = await mkdtemp(path.join(tmpdir(), "gl-swift-"));
  const owner = await serverUser();
  const [proxyPort = 0, memcachedPort = 0, ...serverPorts] = await freePorts(2 + SERVERS.length);
  const devices = path.join(dir, "devices");
  await mkdir(path.join(devices, "d1"), { recursive: true });
  if (owner) {
    for (const folder of [dir, devices, path.join(devices, "d1")]) await chown(folder, owner.uid, owner.gid);
  }

  let output = "";
  const record = (text: string) => {
    output = (output + text).slice(-OUTPUT_KEPT);
  };
  // Swift logs to syslog, by UDP where there is no /dev/log: a socket of ours keeps its lines off the machine's log.
  const logs = createSocket("udp4");
  logs.on("message", (message) => record(`${message.toString().replace(/^<\d+>|\0$/g, "")}\n`));
  await new Promise<void>((resolve) => logs.bind(0, "127.0.0.1", resolve));

  const common = {
    bind_ip: "127.0.0.1",
    workers: 0,
    swift_dir: dir,
    devices,
    mount_check: false,
    disable_fallocate: true,
    fallocate_reserve: 0,
    log_udp_host: "127.0.0.1",
    log_udp_port: logs.address().port,
  };
  const confs = SERVERS.map((server, index) => ({
    server,
    port: serverPorts[index] ?? 0,
    file: path.join(dir, `${server}-server.conf`),
  }));
  for (const { server, port, file } of confs) {
    await writeFile(
      file,
      ini({
        DEFAULT: { ...common, bind_port: port },
        "pipeline:main": { pipeline: `${server}-server` },
        [`app:${server}-server`]: { use: `egg:swift#${server}` },
      }),
    );
  }
  const proxyConf = path.join(dir, "proxy-server.conf");
  await writeFile(
    proxyConf,
    ini({
      DEFAULT: { ...common, bind_port: proxyPort },
      "pipeline:main": {
        pipeline:
          "catch_errors gatekeeper proxy-logging cache listing_formats s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server",
      },
      "app:proxy-server": { use: "egg:swift#proxy", account_autocreate: true },
      "filter:s3api": { use: "egg:swift#s3api", location: REGION },
      "filter:tempauth": { use: "egg:swift#tempauth", [`user_${ACCOUNT}_${USER}`]: `${KEY} .admin` },
      // tempauth keeps its tokens there and refuses every request without one.
      "filter:cache": { use: "egg:swift#memcache", memcache_servers: `127.0.0.1:${memcachedPort}` },
      "filter:catch_errors": { use: "egg:swift#catch_errors" },
      "filter:gatekeeper": { use: "egg:swift#gatekeeper" },
      "filter:proxy-logging": { use: "egg:swift#proxy_logging" },
      "filter:listing_formats": { use: "egg:swift#listing_formats" },
      "filter:copy": { use: "egg:swift#copy" },
      "filter:slo": { use: "egg:swift#slo" },
      "filter:dlo": { use: "egg:swift#dlo" },
      "filter:versioned_writes": { use: "egg:swift#versioned_writes" },
    }),
  );

  const children: ChildProcess[] = [];
  const launch = (name: string, command: string, args: string[]) => {
    const child = spawn(command, args, { ...owner, stdio: ["ignore", "pipe", "pipe"] });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on("data", (chunk: Buffer) => record(`${name}: ${chunk}`));
    }
    child.on("error", (error) => record(`${name}: ${error.message}\n`));
    children.push(child);
    return child;
  };
  const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;
  // A test that dies without stop() must not leave Swift running on the shared machine.
  const killOnExit = () => {
    for (const child of children) if (running(child)) child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);

  const halt = async () => {
    // SIGKILL: nothing here is worth keeping, and memcached's graceful exit takes up to a second.
    await Promise.all(
      children.map(async (child) => {
        if (!running(child)) return;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }),
    );
    process.off("exit", killOnExit);
    await new Promise<void>((resolve) => logs.close(resolve));
    await rm(dir, { recursive: true, force: true });
  };
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= halt();
    return stopped;
  };

  const listening = (child: ChildProcess, port: number, name: string) =>
    waitForPort(port, () => !running(child), 15_000).catch((error: Error) => {
      throw new Error(`${name} did not start (${error.message})`);
    });

  try {
    const memcached = launch("memcached", "/usr/bin/memcached", [
      "-l",
      "127.0.0.1",
      "-p",
      String(memcachedPort),
      "-U",
      "0",
    ]);
    const servers = confs.map(({ server, port, file }) => ({
      child: launch(`${server}-server`, `/usr/bin/swift-${server}-server`, [file]),
      port,
      name: `${server}-server`,
    }));
    // The proxy is the only server that needs the rings to start: they are built while the others start.
    await run(PYTHON, ["-c", BUILD_RINGS, dir, ...confs.map(({ server, port }) => `${server}=${port}`)], owner).catch(
      (error: Error & { stderr?: string }) => {
        throw new Error(`building the rings failed: ${error.stderr ?? error.message}`);
      },
    );
    const proxy = launch("proxy-server", "/usr/bin/swift-proxy-server", [proxyConf]);
    await Promise.all([
      listening(memcached, memcachedPort, "memcached"),
      ...servers.map(({ child, port, name }) => listening(child, port, name)),
      listening(proxy, proxyPort, "proxy-server"),
    ]);

    const endpoint = `http://127.0.0.1:${proxyPort}`;
    const credentials = { accessKeyId: `${ACCOUNT}:${USER}`, secretAccessKey: KEY };
    const client = new S3Client({ endpoint, region: REGION, credentials, forcePathStyle: true });
    try {
      await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    } finally {
      client.destroy();
    }
    return { endpoint, region: REGION, ...credentials, bucket: BUCKET, stop };
  } catch (error) {
    await stop();
    throw new Error(`Swift did not start: ${error instanceof Error ? error.message : error}\n${output}`);
  }
}

/** The settings that point GreenLedger's file storage at this Swift. */
export function s3Env(swift: Swift): Record<string, string> {
  return {
    S3_BUCKET: swift.bucket,
    S3_ENDPOINT: swift.endpoint,
    S3_REGION: swift.region,
    S3_ACCESS_KEY_ID: swift.accessKeyId,
    S3_SECRET_ACCESS_KEY: swift.secretAccessKey,
    S3_FORCE_PATH_STYLE: "true",
  };
}
