import { describe, expect, it } from 'vitest';
import { jobCreatedAt, newJobId, validateJobId, validateDnsLabel } from './ids.js';

describe('ids', () => {
  it('makes job ids that sort in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 1000 }, () => newJobId('ingest-eu', 1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) expect(validateJobId(id)).toBe(id);
    expect(newJobId('ingest-eu', 1_700_000_000_001) > ids.at(-1)!).toBe(true);
    expect(ids[0]!.startsWith('ingest-eu.')).toBe(true);
  });

  it('reads the millisecond a job id was made from the id', () => {
    expect(jobCreatedAt(newJobId('ingest-eu', 1_800_000_000_123))).toBe(1_800_000_000_123);
    expect(jobCreatedAt('not-an-id')).toBeUndefined();
  });

  it('refuses malformed job ids and pool names with a hint', () => {
    expect(() => validateJobId('../../etc')).toThrow(/not a job id/);
    expect(() => validateJobId('0mhx3k2ab8f3c0e9d1a2b3c4d')).toThrow(/POOL\.ID/);
    expect(() => validateJobId('a:b.0mhx3k2ab8f3c0e9d1a2b3c4d')).toThrow(/not a job id/);
    expect(() => validateDnsLabel('pool', 'Ingest_EU')).toThrow(/pool: "Ingest_EU" is not a valid name/);
    expect(validateDnsLabel('pool', 'ingest-eu')).toBe('ingest-eu');
  });
});
