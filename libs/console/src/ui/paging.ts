/**
 * Paging through a server-side list whose pages are named by opaque tokens: the server only
 * says what comes next, so the tokens of the pages behind are kept here to go back.
 */
export interface PageCursor {
  /** Tokens of the pages before the current one, oldest first ('' is the first page). */
  readonly behind: readonly string[];
  /** The current page's token. */
  readonly current: string;
}

export const FIRST_PAGE: PageCursor = { behind: [], current: '' };

/** The cursor after moving on to the page `next` names. */
export function nextPage(c: PageCursor, next: string): PageCursor {
  return next ? { behind: [...c.behind, c.current], current: next } : c;
}

/** The cursor after moving back one page (the first page stays the first). */
export function previousPage(c: PageCursor): PageCursor {
  if (c.behind.length === 0) return c;
  return { behind: c.behind.slice(0, -1), current: c.behind[c.behind.length - 1]! };
}

/** "Page 3", for people. */
export function pageNumber(c: PageCursor): number {
  return c.behind.length + 1;
}
