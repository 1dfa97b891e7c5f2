/**
 * Last-resort cleanup: when the test process exits, SIGKILL every child this module still
 * tracks, by pid. `exit` handlers must be synchronous, so a kill is all that can be done here.
 */
const live = new Set<number>();
let installed = false;

/** Remembers `pid` as a running child to kill if the test process exits first. */
export function trackPid(pid: number): void {
  live.add(pid);
  if (!installed) {
    installed = true;
    process.on('exit', killAll);
  }
}

/** Forgets `pid` (call once the child has exited, so a reused pid is never killed). */
export function untrackPid(pid: number): void {
  live.delete(pid);
}

function killAll(): void {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
}
