import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { type Daemon, startDaemon } from "@/deploy/local/daemon";
import { freePort } from "@/scripts/free-port.mjs";

const ALERTMANAGER = "/usr/bin/prometheus-alertmanager";

export type Alertmanager = Daemon;

/**
 * Debian's Alertmanager on a free loopback port, alone (no cluster gossip), its state in a temp folder: every alert,
 * each in a group of its own, is posted to `webhookUrl` within about a second, and again once it resolves.
 */
export async function startAlertmanager(webhookUrl: string): Promise<Alertmanager> {
  const dir = await mkdtemp(path.join(tmpdir(), "gl-alertmanager-"));
  const port = await freePort();
  const config = path.join(dir, "alertmanager.yml");
  await writeFile(
    config,
    stringify({
      global: { resolve_timeout: "5s" },
      route: {
        receiver: "webhook",
        group_by: ["..."],
        group_wait: "1s",
        group_interval: "1s",
        repeat_interval: "1h",
      },
      receivers: [{ name: "webhook", webhook_configs: [{ url: webhookUrl, send_resolved: true }] }],
    }),
  );
  const args = [
    `--config.file=${config}`,
    `--storage.path=${path.join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--cluster.listen-address=",
  ];
  return startDaemon(ALERTMANAGER, args, port, dir, 15_000, "/-/ready");
}
