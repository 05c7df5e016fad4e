import http from "node:http";
import net from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import next from "next";
import { env } from "@/lib/env.mjs";
import { startDraining } from "@/lib/health/readiness";
import { closeConnectionsAfterAnswers, createGateway } from "@/lib/http/gateway";
import { endLiveStreams } from "@/lib/http/live-lane";
import { log } from "@/lib/log";
import { startBudgetMonitor } from "@/lib/observability/budget-monitor";
import { startSlaMonitor } from "@/lib/observability/sla-monitor";
import { warmVerifications } from "@/lib/verify/warm-verifications";

export type Web = {
  /**
   * Not ready at once; after `noticeMs` (time for the balancer to see it) no new connections; requests in flight
   * finish and every connection closes after its answer; after the grace period the rest are cut.
   */
  drain(noticeMs: number): Promise<void>;
};

const SWEEP_MS = 250;
// A connection accepted just before the listener closed may carry a request not read yet: it is left alone this
// long (its answer closes it), as Go's Shutdown does, instead of being reset as idle.
const NEW_CONNECTION_MS = 2_000;

type Socket = http.IncomingMessage["socket"] & { _httpMessage?: unknown };

export async function startWeb(): Promise<Web> {
  const app = next({ dev: env.NODE_ENV === "development", dir: process.cwd(), hostname: env.HOST, port: env.PORT });
  await app.prepare();
  const server = http.createServer(createGateway(app.getRequestHandler()));
  const accepted = new Map<Socket, number>();
  server.on("connection", (socket: Socket) => {
    accepted.set(socket, Date.now());
    socket.once("close", () => accepted.delete(socket));
  });
  /** Closes the connections with no request in progress, except ones too new to have sent theirs yet. */
  const closeIdle = () => {
    const now = Date.now();
    for (const [socket, since] of accepted) {
      if (!socket._httpMessage && now - since >= NEW_CONNECTION_MS) socket.destroy();
    }
  };
  await new Promise<void>((resolve) => server.listen(env.PORT, env.HOST, resolve));
  log.info({ url: `http://${env.HOST}:${env.PORT}`, role: env.ROLE }, "GreenLedger is ready");
  // After listening, so a start is not held up; the first scans of a hot token wait on its load only once.
  if (env.CACHE_WARM_TOKENS > 0) {
    warmVerifications(env.CACHE_WARM_TOKENS).catch((error) => log.warn({ err: error }, "cache warm-up failed"));
  }
  const monitors = [startSlaMonitor(), startBudgetMonitor()];

  return {
    async drain(noticeMs) {
      startDraining();
      const monitorsStopped = Promise.all(monitors.map((monitor) => monitor.stop()));
      closeConnectionsAfterAnswers();
      if (noticeMs > 0) await delay(noticeMs);
      // net.Server's close: http.Server's would also reset every idle connection at once, new ones included.
      const closed = new Promise((resolve) => net.Server.prototype.close.call(server, resolve));
      // A keep-alive connection whose answer went out before draining began closes once it is idle.
      closeIdle();
      // Watchers reconnect, through the balancer, to an instance that stays.
      endLiveStreams();
      const sweep = setInterval(closeIdle, SWEEP_MS);
      const grace = delay(env.SHUTDOWN_GRACE_SECONDS * 1000, "grace over");
      if ((await Promise.race([closed, grace])) === "grace over") {
        log.warn({ graceSeconds: env.SHUTDOWN_GRACE_SECONDS }, "requests still running after the grace period; cut");
        server.closeAllConnections();
        await closed;
      }
      clearInterval(sweep);
      await monitorsStopped;
    },
  };
}
