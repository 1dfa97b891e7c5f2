import { describe, expect, it } from 'vitest';
import { FIRST_PAGE, nextPage, pageNumber, previousPage } from './paging.js';

describe('paging by the server\'s page tokens', () => {
  it('goes forward by the token the server gave and back by the ones it kept', () => {
    const p2 = nextPage(FIRST_PAGE, 't2');
    const p3 = nextPage(p2, 't3');
    expect([pageNumber(FIRST_PAGE), pageNumber(p2), pageNumber(p3)]).toEqual([1, 2, 3]);
    expect(p3.current).toBe('t3');
    expect(previousPage(p3)).toEqual(p2);
    expect(previousPage(previousPage(p3))).toEqual(FIRST_PAGE);
  });

  it('stays put at either end', () => {
    expect(previousPage(FIRST_PAGE)).toEqual(FIRST_PAGE);
    const p2 = nextPage(FIRST_PAGE, 't2');
    expect(nextPage(p2, '')).toBe(p2); // no next token: the last page
  });
});
