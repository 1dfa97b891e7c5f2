/**
 * The agent's capacity ledger: which jobs run here, their weights and lanes, in integer
 * thousandths so sums are exact. Owned by the agent's claim loop; nothing else mutates it.
 */
export class CapacityLedger {
  private readonly running = new Map<string, { weightMilli: number; lane?: string }>();
  private used = 0;
  private readonly laneCounts = new Map<string, number>();

  constructor(
    readonly capacityMilli: number,
    readonly laneLimits: Readonly<Record<string, number>> = {},
  ) {
    if (!Number.isInteger(capacityMilli) || capacityMilli <= 0) throw new RangeError(`capacity must be a positive integer number of thousandths, got ${capacityMilli}`);
  }

  get usedMilli(): number {
    return this.used;
  }
  get freeMilli(): number {
    return this.capacityMilli - this.used;
  }
  get jobIds(): string[] {
    return [...this.running.keys()];
  }
  get size(): number {
    return this.running.size;
  }
  laneUsage(): Record<string, number> {
    return Object.fromEntries(this.laneCounts);
  }

  /** Free slots of each capped lane (0: at its cap, its jobs cannot start here now). */
  laneRoom(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.laneLimits).map(([lane, cap]) => [lane, Math.max(0, cap - (this.laneCounts.get(lane) ?? 0))]));
  }

  /** Why a job cannot start now, or undefined if it fits. */
  refusal(weightMilli: number, lane?: string): string | undefined {
    if (this.used + weightMilli > this.capacityMilli) return `weight ${weightMilli} does not fit in ${this.freeMilli} free`;
    const cap = lane ? this.laneLimits[lane] : undefined;
    if (lane && cap !== undefined && (this.laneCounts.get(lane) ?? 0) >= cap) return `lane ${lane} is at its cap of ${cap}`;
    return undefined;
  }

  /** Records a job as running; throws if it would break capacity or a lane cap (a bug upstream). */
  admit(id: string, weightMilli: number, lane?: string): void {
    const why = this.refusal(weightMilli, lane);
    if (why) throw new Error(`cannot admit job ${id}: ${why}`);
    if (this.running.has(id)) throw new Error(`job ${id} is already running here`);
    this.running.set(id, { weightMilli, ...(lane ? { lane } : {}) });
    this.used += weightMilli;
    if (lane) this.laneCounts.set(lane, (this.laneCounts.get(lane) ?? 0) + 1);
  }

  /** Frees a job's weight and lane slot. Unknown ids are ignored. */
  release(id: string): void {
    const r = this.running.get(id);
    if (!r) return;
    this.running.delete(id);
    this.used -= r.weightMilli;
    if (r.lane) {
      const n = (this.laneCounts.get(r.lane) ?? 1) - 1;
      if (n > 0) this.laneCounts.set(r.lane, n);
      else this.laneCounts.delete(r.lane);
    }
  }
}
