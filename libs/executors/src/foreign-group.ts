import { setTimeout as sleep } from 'node:timers/promises';
import { isSameProcess } from './leftovers.js';
import { processState } from './proc-fs.js';
import { signalGroup } from './process-group.js';

// How often a stop looks whether the group's leader is gone; it is not our child, so no exit event comes.
const POLL_MS = 100;

/**
 * Stops a job's process group that this agent did not start (a previous run of it did, and was
 * killed): SIGTERM, then SIGKILL if its leader is still there after `graceMs` (0: SIGKILL at once).
 * Nothing is signalled unless `pid` is still the process that started at `startTime`.
 */
export async function stopForeignGroup(pid: number, startTime: string, graceMs: number): Promise<void> {
  if (!Number.isInteger(graceMs) || graceMs < 0) throw new RangeError(`graceMs must be an integer >= 0, got ${graceMs}`);
  if (!isSameProcess(pid, startTime)) return;
  if (graceMs === 0 || !signalGroup(pid, 'SIGTERM')) {
    signalGroup(pid, 'SIGKILL');
    return;
  }
  const deadline = Date.now() + graceMs;
  // A zombie leader has ended; whatever else is left in its group goes with the SIGKILL below.
  const running = () => isSameProcess(pid, startTime) && processState(pid) !== 'Z';
  while (running() && Date.now() < deadline) await sleep(POLL_MS);
  if (isSameProcess(pid, startTime)) signalGroup(pid, 'SIGKILL');
}
