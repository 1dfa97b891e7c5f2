/**
 * Sends `signal` to every process of the group led by `pgid`: a child spawned with
 * `detached: true` leads its own group, and its children (and theirs) stay in it unless they
 * call `setsid`/`setpgid` themselves. Returns false when the group is gone (ESRCH, the normal
 * case after everything exited) or none of its members may be signalled (EPERM, e.g. setuid).
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  // kill(-0) would signal the agent's own group and kill(-1) every process we may signal.
  if (!Number.isInteger(pgid) || pgid <= 1) throw new RangeError(`not a process group id: ${pgid}`);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if (isErrno(err, 'ESRCH') || isErrno(err, 'EPERM')) return false;
    throw err;
  }
}

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}
