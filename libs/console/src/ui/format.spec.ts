import { describe, expect, it } from 'vitest';
import { formatCount } from './format.js';

describe('counts as people read them', () => {
  it('groups thousands and pluralises the noun', () => {
    expect(formatCount(100_000)).toBe('100,000');
    expect(formatCount(10_000, 'job')).toBe('10,000 jobs');
    expect(formatCount(1, 'line')).toBe('1 line');
    expect(formatCount(0, 'line')).toBe('0 lines');
  });
});
