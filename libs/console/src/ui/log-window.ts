/** Which rows of a long list are in the DOM: those in view, plus a margin either side. */
export interface RowWindow {
  /** First rendered row (inclusive). */
  start: number;
  /** Past the last rendered row (exclusive). */
  end: number;
  /** Height of the empty space standing for the rows above `start`. */
  padTop: number;
  /** Height of the empty space standing for the rows from `end` on. */
  padBottom: number;
}

/**
 * The rows to render for a scroll position: with fixed-height rows, the DOM holds about a
 * screenful however long the log is (100,000 lines render as ~60 rows).
 */
export function rowWindow(total: number, rowHeight: number, scrollTop: number, viewportHeight: number, overscan = 10): RowWindow {
  if (total <= 0 || rowHeight <= 0) return { start: 0, end: 0, padTop: 0, padBottom: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const visible = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.min(total, Math.max(0, first - overscan));
  const end = Math.min(total, first + visible + overscan);
  return { start, end, padTop: start * rowHeight, padBottom: (total - end) * rowHeight };
}

/** True when the view is scrolled to (within a row of) the bottom: then new lines keep it there. */
export function atBottom(scrollTop: number, viewportHeight: number, contentHeight: number, rowHeight: number): boolean {
  return scrollTop + viewportHeight >= contentHeight - rowHeight;
}
