type Options = { failures: number; cooldownMs: number; onChange?: (open: boolean) => void; now?: () => number };

/**
 * Closed: calls run; `failures` failures in a row open it. Open: calls are skipped until `cooldownMs` has passed,
 * then one call probes (half-open): success closes it, failure opens it for another cooldown.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | null = null;
  private probing = false;
  private readonly options: Options;

  constructor(options: Options) {
    this.options = options;
  }

  get open(): boolean {
    return this.openedAt !== null;
  }

  /** Whether `run` would skip its operation now: open, and not yet time for a probe (or one is running). */
  get skipping(): boolean {
    return this.openedAt !== null && (this.probing || this.now() - this.openedAt < this.options.cooldownMs);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** The operation's result, or `fallback` when the circuit is open or the operation fails. */
  async run<T, F>(operation: () => Promise<T>, fallback: F): Promise<T | F> {
    if (this.skipping) return fallback;
    if (this.openedAt !== null) this.probing = true;
    try {
      const result = await operation();
      this.succeeded();
      return result;
    } catch {
      this.failed(this.now());
      return fallback;
    } finally {
      this.probing = false;
    }
  }

  private succeeded(): void {
    this.failures = 0;
    if (this.openedAt === null) return;
    this.openedAt = null;
    this.options.onChange?.(false);
  }

  private failed(now: number): void {
    this.failures += 1;
    if (this.openedAt === null && this.failures < this.options.failures) return;
    const wasOpen = this.openedAt !== null;
    this.openedAt = now;
    if (!wasOpen) this.options.onChange?.(true);
  }
}
