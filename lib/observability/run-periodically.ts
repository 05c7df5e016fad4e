import { log } from "@/lib/log";

/**
 * Runs `work` now, then `intervalMs` after each run ends, never two at once; a failure is logged as `failure` and
 * the next run comes as usual. `stop()` resolves once the run in progress, if any, has ended.
 */
export function runPeriodically(
  work: () => Promise<unknown>,
  intervalMs: number,
  failure: string,
): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running = Promise.resolve();
  const tick = () => {
    running = work()
      .then(
        () => undefined,
        (error: unknown) => log.warn({ err: error }, failure),
      )
      .then(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs).unref();
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
