import { setTimeout as delay } from "node:timers/promises";

/** Polls `check` (every 25 ms) until it returns true, for hooks where expect.poll is not available. */
export async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await delay(25);
  }
}
