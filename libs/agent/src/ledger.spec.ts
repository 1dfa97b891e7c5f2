import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CapacityLedger } from './ledger.js';

describe('CapacityLedger', () => {
  it('admits weights up to capacity exactly, in integer thousandths', () => {
    const l = new CapacityLedger(1000);
    l.admit('a', 100);
    l.admit('b', 200);
    l.admit('c', 700); // 0.1 + 0.2 + 0.7 is exactly 1.0 here, unlike in floating point
    expect(l.freeMilli).toBe(0);
    expect(l.refusal(1)).toMatch(/does not fit/);
    expect(() => l.admit('d', 1)).toThrow(/cannot admit/);
    l.release('b');
    expect(l.refusal(200)).toBeUndefined();
  });

  it('caps lanes by count and leaves unlisted lanes to weight alone', () => {
    const l = new CapacityLedger(10_000, { ingestion: 2 });
    l.admit('a', 100, 'ingestion');
    l.admit('b', 100, 'ingestion');
    expect(l.refusal(100, 'ingestion')).toMatch(/lane ingestion/);
    expect(l.refusal(100, 'monitor')).toBeUndefined();
    expect(l.laneUsage()).toEqual({ ingestion: 2 });
    l.release('a');
    expect(l.refusal(100, 'ingestion')).toBeUndefined();
  });

  it('never exceeds capacity under any sequence of admits and releases', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4000 }), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 1500 })), { maxLength: 200 }), (cap, ops) => {
        const l = new CapacityLedger(cap);
        let next = 0;
        for (const [admit, w] of ops) {
          if (admit) {
            if (!l.refusal(w)) l.admit(`j${next++}`, w);
          } else if (l.jobIds.length) l.release(l.jobIds[w % l.jobIds.length]!);
          expect(l.usedMilli).toBeLessThanOrEqual(cap);
          expect(l.usedMilli).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });
});
