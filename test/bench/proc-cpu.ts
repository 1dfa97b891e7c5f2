import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

/**
 * CPU time (user + system, ms) a live process has used so far, from /proc/<pid>/stat; NaN when
 * it cannot be read (not Linux, or the process is gone). 10 ms resolution: use over many jobs.
 */
export function processCpuMs(pid: number, tid?: number): number {
  try {
    // With `tid`, one thread's time (the main thread's tid is the pid).
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return NaN;
  }
}

/** CPU time (ms) live processes `pids` have used so far, together (see {@link processCpuMs}). */
export function processesCpuMs(pids: readonly number[]): number {
  return pids.reduce((s, p) => s + processCpuMs(p), 0);
}

/** CPU ms used by `pids` together while `fn` ran. */
export async function cpuDuring<T>(pids: readonly number[], fn: () => Promise<T>): Promise<{ value: T; cpuMs: number }> {
  const before = processesCpuMs(pids);
  const value = await fn();
  return { value, cpuMs: processesCpuMs(pids) - before };
}
