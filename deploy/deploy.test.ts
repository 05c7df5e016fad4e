import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { COMPOSE_PURGERS, COMPOSE_WEB } from "@/deploy/local/compose-addresses";
import { haproxyConfig } from "@/deploy/local/haproxy";
import { backendsVcl } from "@/deploy/local/varnish";
import { parseEnv } from "@/lib/env.mjs";

// No container engine or cluster here: these files are parsed and checked against what the app expects of them.
const read = (name: string) => readFileSync(new URL(name, import.meta.url), "utf8");
const defaults = parseEnv({});
const drainSeconds = defaults.SHUTDOWN_NOTICE_SECONDS + defaults.SHUTDOWN_GRACE_SECONDS;
// Enough to read pool sizes per role; the chain and database values only satisfy the config's checks.
const shared = {
  DATABASE_URL: "postgresql://app@db:5432/gl",
  REDIS_URL: "redis://cache:6379",
  CHAIN_RPC_URL: "https://rpc.example.org",
  CHAIN_ID: "1",
  CROP_BATCH_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  RELAYER_PRIVATE_KEY: `0x${"1".repeat(64)}`,
};

type Probe = { httpGet?: { path: string; port: string }; tcpSocket?: { port: string } };
type Container = {
  env: { name: string; value: string }[];
  ports: { name: string; containerPort: number }[];
  readinessProbe: Probe;
  livenessProbe: Probe;
};
type Manifest = {
  kind: string;
  metadata: { name: string };
  spec: {
    replicas?: number;
    maxReplicas?: number;
    scaleTargetRef?: { name: string };
    selector?: { matchLabels: Record<string, string> };
    template?: { spec: { terminationGracePeriodSeconds: number; containers: Container[] } };
  };
};

describe("deploy/kubernetes.yaml", () => {
  const manifests = parseAllDocuments(read("./kubernetes.yaml")).map((document) => document.toJS() as Manifest);
  const deployment = (role: string) => {
    const found = manifests.find((m) => m.kind === "Deployment" && m.metadata.name === `greenledger-${role}`);
    if (!found?.spec.template) throw new Error(`no ${role} Deployment`);
    return { manifest: found, container: found.spec.template.spec.containers[0] as Container };
  };
  const envOf = (container: Container) => Object.fromEntries(container.env.map(({ name, value }) => [name, value]));

  it("runs each role on the port it listens on, ready on /api/ready, alive while the process answers", () => {
    for (const role of ["web", "worker"]) {
      const { manifest, container } = deployment(role);
      const env = envOf(container);
      expect(env.ROLE).toBe(role);
      expect(container.ports).toContainEqual({ name: "http", containerPort: Number(env.PORT) });
      expect(container.readinessProbe.httpGet).toEqual({ path: "/api/ready", port: "http" });
      // A database outage makes every pod unready, and must not make Kubernetes restart them all.
      expect(container.livenessProbe).toMatchObject({ tcpSocket: { port: "http" } });
      expect(manifest.spec.template?.spec.terminationGracePeriodSeconds).toBeGreaterThan(drainSeconds);
    }
  });

  it("keeps one of each role through a voluntary disruption and scales web within the connection budget", () => {
    const budgets = manifests.filter((m) => m.kind === "PodDisruptionBudget");
    expect(budgets.map((m) => m.spec.selector?.matchLabels.role).sort()).toEqual(["web", "worker"]);
    const autoscaler = manifests.find((m) => m.kind === "HorizontalPodAutoscaler");
    expect(autoscaler?.spec.scaleTargetRef?.name).toBe("greenledger-web");
    const connections = (role: string) => {
      const config = parseEnv({ ...shared, ...envOf(deployment(role).container) });
      const lease = role === "worker" ? 1 : 0;
      return config.DB_POOL_WRITE_MAX + config.DB_POOL_READ_MAX + config.DB_POOL_ANALYTICS_MAX + lease;
    };
    const workers = deployment("worker").manifest.spec.replicas ?? 1;
    // PostgreSQL's default max_connections less its superuser reserve.
    expect((autoscaler?.spec.maxReplicas ?? 0) * connections("web") + workers * connections("worker")).toBeLessThan(97);
  });
});

describe("deploy/compose.yaml and deploy/haproxy.cfg", () => {
  type Service = { environment?: Record<string, string>; stop_grace_period?: string; volumes?: string[] };
  const compose = parseYaml(read("./compose.yaml"), { merge: true }) as { services: Record<string, Service> };
  const roleOf = (name: string) => compose.services[name]?.environment?.ROLE;

  it("runs two web and two worker instances from one image; only workers hold the relayer's key", () => {
    const services = Object.keys(compose.services);
    expect(services.filter((name) => roleOf(name) === "web")).toEqual(["web1", "web2"]);
    expect(services.filter((name) => roleOf(name) === "worker")).toEqual(["worker1", "worker2"]);
    for (const name of ["web1", "web2", "worker1", "worker2"]) {
      const service = compose.services[name] as Service;
      expect(Number.parseInt(service.stop_grace_period ?? "0", 10)).toBeGreaterThan(drainSeconds);
      expect("RELAYER_PRIVATE_KEY" in (service.environment ?? {})).toBe(roleOf(name) === "worker");
      // Each container has its own disk: uploads and files must be in the one bucket every instance reaches.
      expect(service.environment?.S3_BUCKET).toMatch(/^\$\{S3_BUCKET:\?/);
    }
  });

  it("balances over the web services and the page cache, health-checked on /api/ready; HAProxy accepts it", () => {
    const config = read("./haproxy.cfg");
    // The topology writes the same file for its own addresses: one source for both.
    expect(config).toBe(
      haproxyConfig({
        bind: ":8080",
        web: COMPOSE_WEB,
        pageCache: { host: "varnish", port: 80 },
        dns: true,
        maxconn: 50_000,
      }),
    );
    expect(config).toContain("option httpchk GET /api/ready");
    const servers = [...config.matchAll(/^\s*server \S+ (\S+):(\d+) check/gm)].map(
      (match) => `${match[1]}:${match[2]}`,
    );
    expect(servers).toEqual(["varnish:80", "web1:3000", "web2:3000"]);
    expect(compose.services.varnish?.volumes).toContain("./varnish.vcl:/etc/varnish/default.vcl:ro");
    for (const name of ["web1", "worker1"]) {
      expect(compose.services[name]?.environment).toMatchObject({
        PURGE_URL: "http://varnish/",
        PURGE_METHOD: "PURGE",
      });
    }
    expect(compose.services.haproxy?.volumes).toContain("./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro");
    if (!existsSync("/usr/sbin/haproxy")) throw new Error("haproxy is missing: npm test installs it (apt-get)");
    const path = new URL("./haproxy.cfg", import.meta.url).pathname;
    expect(() => execFileSync("/usr/sbin/haproxy", ["-c", "-q", "-f", path], { stdio: "pipe" })).not.toThrow();
  });
});

describe("deploy/Dockerfile", () => {
  const dockerfile = read("./Dockerfile");

  it("starts node itself, so SIGTERM reaches the process that drains", () => {
    expect(dockerfile).toMatch(/^CMD \["node", "--import", "tsx", "server\.ts"\]$/m);
    expect(dockerfile).toMatch(/^EXPOSE 3000$/m);
    expect(dockerfile).toMatch(/PORT=3000/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});

describe("deploy/varnish.vcl", () => {
  it("compiles with vmod-xkey in front of the compose file's web services, as the topology writes them", () => {
    expect(read("./backends.vcl")).toBe(backendsVcl(COMPOSE_WEB, COMPOSE_PURGERS));
    const services = parseYaml(read("./compose.yaml"), { merge: true }) as { services: Record<string, unknown> };
    for (const { host } of COMPOSE_WEB) expect(Object.keys(services.services)).toContain(host);
    if (!existsSync("/usr/sbin/varnishd")) throw new Error("varnishd is missing: npm test installs varnish (apt-get)");
    // Compose's host names resolve only inside compose: the same file with loopback addresses is compiled here.
    const dir = mkdtempSync(path.join(tmpdir(), "gl-vcl-"));
    try {
      chmodSync(dir, 0o755);
      copyFileSync(new URL("./varnish.vcl", import.meta.url), path.join(dir, "varnish.vcl"));
      const backends = [3001, 3002].map((port) => ({ host: "127.0.0.1", port }));
      writeFileSync(path.join(dir, "backends.vcl"), backendsVcl(backends, COMPOSE_PURGERS));
      for (const file of ["varnish.vcl", "backends.vcl"]) chmodSync(path.join(dir, file), 0o644);
      const compile = () =>
        execFileSync("/usr/sbin/varnishd", ["-C", "-f", path.join(dir, "varnish.vcl"), "-p", `vcl_path=${dir}`], {
          stdio: "pipe",
        });
      expect(compile).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
