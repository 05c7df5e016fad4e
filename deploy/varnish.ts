import { type ChildProcess, spawn } from "node:child_process";
import { chmod, copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";

export type VarnishBackend = { host: string; port: number };

export type Varnish = { url: string; port: number; stop(): Promise<void> };

const VARNISHD = "/usr/sbin/varnishd";

/** deploy/backends.vcl for these web instances: the same probe, director and purge ACL, other addresses. */
export function backendsVcl(backends: VarnishBackend[], purgers: string[]): string {
  const names = backends.map((_, index) => `web${index + 1}`);
  return [
    "import directors;",
    'probe ready { .url = "/api/ready"; .interval = 1s; .timeout = 1s; .window = 2; .threshold = 2; }',
    ...backends.map(
      ({ host, port }, index) => `backend ${names[index]} { .host = "${host}"; .port = "${port}"; .probe = ready; }`,
    ),
    `acl purgers { ${purgers.map((address) => `"${address}";`).join(" ")} }`,
    `sub vcl_init { new web = directors.round_robin(); ${names.map((name) => `web.add_backend(${name});`).join(" ")} }`,
    "sub vcl_recv { set req.backend_hint = web.backend(); }",
    "",
  ].join("\n");
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * varnishd (Debian's varnish + varnish-modules) in the foreground with deploy/varnish.vcl in front of `backends`,
 * listening on loopback `port`; its files live in a temp folder removed by stop().
 */
export async function startVarnish(port: number, backends: VarnishBackend[]): Promise<Varnish> {
  const dir = await mkdtemp(path.join(tmpdir(), "gl-varnish-"));
  // varnishd reads the VCL as its own unprivileged user when started as root.
  await chmod(dir, 0o755);
  await copyFile(path.resolve("deploy/varnish.vcl"), path.join(dir, "varnish.vcl"));
  await writeFile(path.join(dir, "backends.vcl"), backendsVcl(backends, ["127.0.0.1", "::1"]));
  for (const file of ["varnish.vcl", "backends.vcl"]) await chmod(path.join(dir, file), 0o644);
  const child: ChildProcess = spawn(
    VARNISHD,
    [
      "-F",
      "-a",
      `127.0.0.1:${port}`,
      "-f",
      path.join(dir, "varnish.vcl"),
      "-p",
      `vcl_path=${dir}`,
      "-n",
      path.join(dir, "work"),
      "-s",
      "malloc,64m",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`varnishd did not start: ${output}`);
    }
    await delay(50);
  }
  return { url: `http://127.0.0.1:${port}`, port, stop };
}
