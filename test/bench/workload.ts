import { seededRandom } from '@longshore/testing';
/** The packing benchmark's workload: the same jobs for the same seed, on every machine. */

/** One job of the workload: how heavy it is and how long its `sleep` lasts. */
export interface WorkItem {
  index: number;
  weightMilli: number;
  durationMs: number;
}

/** Weights drawn from, in thousandths (⅛, ¼, ½, ¾, 1). */
export const WEIGHTS_MILLI = [125, 250, 500, 750, 1000] as const;
/** Durations are drawn in 50 ms steps from this range, inclusive. */
export const DURATION_RANGE_MS = [100, 600] as const;

export { seededRandom } from '@longshore/testing';

/** `count` jobs with weights from {@link WEIGHTS_MILLI} and durations from {@link DURATION_RANGE_MS}. */
export function mixedWorkload(seed: number, count: number): WorkItem[] {
  const random = seededRandom(seed);
  const [lo, hi] = DURATION_RANGE_MS;
  const steps = (hi - lo) / 50 + 1;
  return Array.from({ length: count }, (_, index) => ({
    index,
    weightMilli: WEIGHTS_MILLI[Math.floor(random() * WEIGHTS_MILLI.length)]!,
    durationMs: lo + 50 * Math.floor(random() * steps),
  }));
}

/** The argv that runs one item: `sleep 0.35` for 350 ms. */
export function sleepCommand(item: WorkItem): string[] {
  return ['sleep', (item.durationMs / 1000).toFixed(3)];
}

/** Σ weight × duration, in thousandth-ms: the least busy time any scheduler must spend. */
export function workOf(items: readonly WorkItem[]): number {
  return items.reduce((s, i) => s + i.weightMilli * i.durationMs, 0);
}
