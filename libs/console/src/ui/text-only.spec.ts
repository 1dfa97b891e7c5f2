import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// What a job controls (log lines, labels, command, env names) must reach the page as text. Preact
// escapes what it renders; these are the ways around that, and none may appear in the UI.
const MARKUP_SINKS = /dangerouslySetInnerHTML|\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write|new Function\(|\beval\(/;

describe('the UI renders job data as text only', () => {
  const dir = new URL('./', import.meta.url);
  const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));

  it('has UI sources to check', () => {
    expect(sources).toContain('log-view.ts');
  });

  it.each(sources)('%s uses no markup sink', (file) => {
    const text = readFileSync(new URL(file, dir), 'utf8');
    expect(text.split('\n').filter((l) => MARKUP_SINKS.test(l))).toEqual([]);
  });
});
