/**
 * Timestamped snapshots in a fixed number of slots, oldest overwritten first. `spacingMs` thins it: a snapshot
 * closer than that to the last one kept is dropped, so a few slots can span a long time.
 */
export class SnapshotRing<T> {
  private readonly slots: { at: number; value: T }[] = [];
  private next = 0;

  constructor(
    private readonly capacity: number,
    private readonly spacingMs = 0,
  ) {}

  push(at: number, value: T): void {
    const last = this.slots.length ? this.entry(this.slots.length - 1) : undefined;
    if (last && at - last.at < this.spacingMs) return;
    if (this.slots.length < this.capacity) this.slots.push({ at, value });
    else this.slots[this.next] = { at, value };
    this.next = (this.next + 1) % this.capacity;
  }

  /** The newest snapshot taken at or before `time`, or the oldest one when every snapshot is newer. */
  atOrBefore(time: number): T | undefined {
    let low = 0;
    let high = this.slots.length - 1;
    let found = 0;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (this.entry(middle).at <= time) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    return this.slots.length ? this.entry(found).value : undefined;
  }

  /** The `index`th snapshot, oldest first. */
  private entry(index: number): { at: number; value: T } {
    const start = this.slots.length < this.capacity ? 0 : this.next;
    return this.slots[(start + index) % this.slots.length] as { at: number; value: T };
  }
}
