import { access } from 'node:fs/promises';
import { formatBytes, MEMORY_POLL_MS, type MemoryGuard, type MemoryGuardEvents, type MemoryLimiter, type MemoryVerdict } from './memory-limit.js';
import { listGroupMembers, pageSize, raiseOomScore } from './proc-fs.js';

/**
 * Whether the watchdog can work here: it reads `/proc/<pid>/stat` (Linux). Returns the problem,
 * or undefined when it can.
 */
export async function probeRssWatchdog(procRoot = '/proc'): Promise<string | undefined> {
  try {
    await access(`${procRoot}/self/stat`);
    return undefined;
  } catch {
    return `${procRoot}/self/stat cannot be read: the RSS watchdog needs Linux's /proc`;
  }
}

/**
 * Memory limits without a cgroup, **best effort**: every {@link MEMORY_POLL_MS} the watchdog
 * sums the RSS of the processes in the job's process group and SIGKILLs the group once the sum
 * is over the limit. A job can overshoot between two polls; pages shared between processes are
 * counted once per process (so the sum errs on the high side); processes that leave the group
 * (`setsid`) are not counted. The job's processes also get `oom_score_adj` 1000, so that if the
 * host runs out of memory first, the kernel kills them before the agent.
 */
export function createRssWatchdogLimiter(procRoot = '/proc'): MemoryLimiter {
  return {
    kind: 'rss-watchdog',
    prepare: async ({ limitBytes }) => new RssWatchdog(limitBytes, await pageSize(), procRoot),
  };
}

class RssWatchdog implements MemoryGuard {
  private events: MemoryGuardEvents | undefined;
  private pgid = 0;
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  private exceeded: string | undefined;
  // Members already given oom_score_adj 1000; children forked later inherit it.
  private readonly raised = new Set<number>();

  constructor(
    private readonly limitBytes: number,
    private readonly pageBytes: number,
    private readonly procRoot: string,
  ) {}

  attach(pid: number, events: MemoryGuardEvents): void {
    this.events = events;
    this.pgid = pid;
    raiseOomScore(pid, this.procRoot);
    this.raised.add(pid);
    this.schedulePoll(0);
  }

  release(): Promise<MemoryVerdict> {
    this.released = true;
    clearTimeout(this.timer);
    return Promise.resolve(this.exceeded === undefined ? {} : { exceeded: this.exceeded });
  }

  private schedulePoll(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.poll().catch((err: unknown) => {
        if (this.released) return;
        this.released = true;
        this.events?.failed(err);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const members = await listGroupMembers(this.pgid, this.procRoot);
    if (this.released) return;
    let rssBytes = 0;
    for (const member of members) {
      rssBytes += member.rssPages * this.pageBytes;
      if (!this.raised.has(member.pid)) {
        this.raised.add(member.pid);
        raiseOomScore(member.pid, this.procRoot);
      }
    }
    if (rssBytes <= this.limitBytes) {
      this.schedulePoll(MEMORY_POLL_MS);
      return;
    }
    this.exceeded =
      `memory limit of ${formatBytes(this.limitBytes)} exceeded (RSS watchdog, best effort): ` +
      `the job's ${members.length === 1 ? 'process' : `${members.length} processes`} used ${formatBytes(rssBytes)}; killed with SIGKILL`;
    this.events?.exceeded(this.exceeded);
  }
}
