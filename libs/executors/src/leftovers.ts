import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@longshore/telemetry';
import { processStartTime as startTime } from './proc-fs.js';
import { signalGroup } from './process-group.js';

/**
 * Where a subprocess executor notes the process group of every job it runs, so that an agent
 * killed outright (SIGKILL, OOM, power) can stop what it left running when it starts again with
 * the same id: job processes live in their own process groups and outlive their agent, and the
 * job runs again elsewhere meanwhile.
 */
export interface LeftoverRegistry {
  record(jobId: string, attempt: number, pgid: number): void;
  forget(jobId: string, attempt: number): void;
}

/** A registry of files `<dir>/<jobId>-<attempt>` holding `<pgid> <start time>`. */
export function leftoverRegistry(dir: string): LeftoverRegistry {
  // Root-only: job processes run as other uids and must not learn each other's pids from here.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = (jobId: string, attempt: number) => join(dir, `${jobId}-${attempt}`);
  return {
    record(jobId, attempt, pgid) {
      const since = startTime(pgid);
      if (since) writeFileSync(file(jobId, attempt), `${pgid} ${since}\n`, { mode: 0o600 });
    },
    forget(jobId, attempt) {
      rmSync(file(jobId, attempt), { force: true });
    },
  };
}

/**
 * Kills (SIGKILL) every process group recorded in `dir` whose leader is still the process that
 * was recorded (same pid and start time), and clears the records. Returns how many it killed.
 */
export async function sweepLeftovers(dir: string, logger: Logger): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let killed = 0;
  for (const name of names) {
    const path = join(dir, name);
    const [pgidText, since] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
    const pgid = Number(pgidText);
    if (Number.isInteger(pgid) && pgid > 1 && since && startTime(pgid) === since && signalGroup(pgid, 'SIGKILL')) {
      killed++;
      logger.warn({ run: name, pgid }, 'killed a job process group left running by a previous run of this agent');
    }
    await rm(path, { force: true });
  }
  return killed;
}
