import { create } from '@bufbuild/protobuf';
import { InvalidArgumentError, LIMITS } from '@longshore/domain';
import { ListJobsRequestSchema } from '@longshore/proto';
import { describe, expect, it } from 'vitest';
import { parseJobQuery } from './list-filter.js';

function refusal(init: Parameters<typeof create<typeof ListJobsRequestSchema>>[1]): string {
  try {
    parseJobQuery(create(ListJobsRequestSchema, init));
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err.message;
    throw err;
  }
  return 'accepted';
}

describe('parseJobQuery', () => {
  it(`caps label filters at ${LIMITS.labelFilters} per listing`, () => {
    const labels = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    expect(refusal({ labels: labels(LIMITS.labelFilters) })).toBe('accepted');
    expect(refusal({ labels: labels(10_000) })).toBe(`labels: has 10000 label filters; at most ${LIMITS.labelFilters} are allowed per listing`);
  });

  it('refuses filters no job could carry: bad keys, NUL and control characters, oversized values', () => {
    expect(refusal({ labels: { 'Bad Key': 'v' } })).toMatch(/^labels\.Bad Key: is not a valid label key/);
    expect(refusal({ labels: { team: 'a\u0000b' } })).toMatch(/^labels\.team: contains a control character \(U\+0000 at index 1\)/);
    expect(refusal({ labels: { team: 'x'.repeat(LIMITS.labelValueLength + 1) } })).toMatch(/^labels\.team: is 257 characters long/);
  });

  it('bounds the page size, 0 meaning the default', () => {
    expect(parseJobQuery(create(ListJobsRequestSchema, {})).pageSize).toBe(LIMITS.defaultPageSize);
    expect(refusal({ pageSize: LIMITS.pageSize })).toBe('accepted');
    expect(refusal({ pageSize: 4_294_967_295 })).toMatch(/^page_size: 4294967295 is too large: use 1 to 500/);
  });
});
