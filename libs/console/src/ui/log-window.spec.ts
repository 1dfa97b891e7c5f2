import { describe, expect, it } from 'vitest';
import { atBottom, rowWindow } from './log-window.js';

describe('rowWindow: only the rows in view are rendered', () => {
  it('renders a screenful of a 100,000-line log, wherever it is scrolled', () => {
    const total = 100_000;
    for (const scrollTop of [0, 18 * 50_000, 18 * (total - 40)]) {
      const w = rowWindow(total, 18, scrollTop, 720, 10);
      expect(w.end - w.start).toBeLessThanOrEqual(720 / 18 + 1 + 20);
      expect(w.end - w.start).toBeGreaterThanOrEqual(40);
      // The spacers stand for exactly the rows left out, so the scrollbar is true to the log.
      expect(w.padTop + (w.end - w.start) * 18 + w.padBottom).toBe(total * 18);
      // The rows in view are among those rendered.
      const firstVisible = Math.floor(scrollTop / 18);
      expect(w.start).toBeLessThanOrEqual(firstVisible);
      expect(w.end).toBeGreaterThanOrEqual(Math.min(total, firstVisible + 40));
    }
  });

  it('renders everything of a short log and nothing of an empty one', () => {
    expect(rowWindow(5, 18, 0, 720)).toEqual({ start: 0, end: 5, padTop: 0, padBottom: 0 });
    expect(rowWindow(0, 18, 0, 720)).toEqual({ start: 0, end: 0, padTop: 0, padBottom: 0 });
  });

  it('keeps the window inside the log when scrolled past its end', () => {
    const w = rowWindow(100, 18, 18 * 1000, 720);
    expect(w.end).toBe(100);
    expect(w.start).toBeLessThanOrEqual(100);
    expect(w.padBottom).toBe(0);
  });

  it('follows only a view left at the bottom', () => {
    expect(atBottom(1000 - 400, 400, 1000, 18)).toBe(true);
    expect(atBottom(1000 - 400 - 10, 400, 1000, 18)).toBe(true);
    expect(atBottom(100, 400, 1000, 18)).toBe(false);
  });
});
