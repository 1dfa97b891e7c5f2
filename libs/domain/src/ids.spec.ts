import { describe, expect, it } from 'vitest';
import { newJobId, validateJobId, validateDnsLabel } from './ids.js';

describe('ids', () => {
  it('makes job ids that sort in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 1000 }, () => newJobId(1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) expect(validateJobId(id)).toBe(id);
    expect(newJobId(1_700_000_000_001) > ids.at(-1)!).toBe(true);
  });

  it('refuses malformed job ids and pool names with a hint', () => {
    expect(() => validateJobId('../../etc')).toThrow(/not a job id/);
    expect(() => validateDnsLabel('pool', 'Ingest_EU')).toThrow(/pool: "Ingest_EU" is not a valid name/);
    expect(validateDnsLabel('pool', 'ingest-eu')).toBe('ingest-eu');
  });
});
