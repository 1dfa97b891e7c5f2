import { readFileSync } from 'node:fs';

/**
 * Whether process `pid` is gone: no `/proc/<pid>`, or only a zombie left (it no longer runs;
 * reaping is its parent's business).
 */
export function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name (which may itself hold spaces or parens).
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}
