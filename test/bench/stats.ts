/** Pure figures the benchmarks print: percentiles, makespan, utilization, peak overlap. */

/** A job's run on one worker: when it started and finished (ms), its weight in thousandths. */
export interface Interval {
  worker: string;
  startMs: number;
  endMs: number;
  weightMilli: number;
}

/**
 * The `p`-th percentile (0–100) by nearest rank, so every figure printed is a value that
 * was measured; NaN for no values.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** First start → last finish, in ms (0 for no intervals). */
export function makespanMs(runs: readonly Interval[]): number {
  if (runs.length === 0) return 0;
  return Math.max(...runs.map((r) => r.endMs)) - Math.min(...runs.map((r) => r.startMs));
}

/**
 * Busy weight-time over offered capacity-time: Σ(weight × duration) / (Σcapacity × makespan).
 * Above 1 only when workers ran more weight than their capacity (oversubscription).
 */
export function utilization(runs: readonly Interval[], totalCapacityMilli: number): number {
  const span = makespanMs(runs);
  if (span <= 0 || totalCapacityMilli <= 0) return NaN;
  const busy = runs.reduce((s, r) => s + r.weightMilli * (r.endMs - r.startMs), 0);
  return busy / (totalCapacityMilli * span);
}

/**
 * The largest summed weight (thousandths) running at once on each worker. Intervals are
 * half-open: a job ending at t and one starting at t never overlap.
 */
export function peakWeightByWorker(runs: readonly Interval[]): Map<string, number> {
  const byWorker = new Map<string, Interval[]>();
  for (const r of runs) {
    const list = byWorker.get(r.worker);
    if (list) list.push(r);
    else byWorker.set(r.worker, [r]);
  }
  const peaks = new Map<string, number>();
  for (const [worker, list] of byWorker) {
    const events = list.flatMap((r) => [
      { t: r.startMs, d: r.weightMilli },
      { t: r.endMs, d: -r.weightMilli },
    ]);
    events.sort((a, b) => a.t - b.t || a.d - b.d); // ends before starts at the same instant
    let now = 0;
    let peak = 0;
    for (const e of events) {
      now += e.d;
      peak = Math.max(peak, now);
    }
    peaks.set(worker, peak);
  }
  return peaks;
}
