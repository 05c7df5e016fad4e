import net from "node:net";
import { setTimeout as delay } from "node:timers/promises";

/** True once something accepts connections on loopback `port`. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Waits until `port` accepts connections; fails at once when `died()` says the server is gone, or after `ms`. */
export async function waitForPort(port: number, died: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await accepts(port))) {
    if (died()) throw new Error("it exited");
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${ms} ms`);
    await delay(50);
  }
}
