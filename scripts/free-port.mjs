import { createServer } from "node:net";

/**
 * `count` distinct loopback ports nothing listens on: all probes stay open until each has its port. For servers the
 * tests, the benchmark and the budget script start; a fixed port in Linux's ephemeral range (32768-60999) may
 * already be held by a client connection.
 * @param {number} count
 * @returns {Promise<number[]>}
 */
export async function freePorts(count) {
  const probes = Array.from({ length: count }, () => createServer());
  const ports = await Promise.all(
    probes.map(
      (probe) =>
        /** @type {Promise<number>} */ (
          new Promise((resolve, reject) => {
            probe.once("error", reject);
            probe.listen(0, "127.0.0.1", () =>
              resolve(/** @type {import("node:net").AddressInfo} */ (probe.address()).port),
            );
          })
        ),
    ),
  );
  await Promise.all(probes.map((probe) => new Promise((resolve) => probe.close(resolve))));
  return ports;
}

/** @returns {Promise<number>} */
export async function freePort() {
  const [port] = await freePorts(1);
  return /** @type {number} */ (port);
}
