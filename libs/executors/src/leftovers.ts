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
  /** The recorded runs whose process is still the one recorded; records of the others are removed. */
  live(): Promise<LeftoverRecord[]>;
}

/** One recorded run: its job, attempt, process group and the start time of the group's leader. */
export interface LeftoverRecord {
  jobId: string;
  attempt: number;
  pgid: number;
  startTime: string;
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
    async live() {
      const found: LeftoverRecord[] = [];
      for (const { path, record } of await readRecords(dir)) {
        if (record && isSameProcess(record.pgid, record.startTime)) found.push(record);
        else await rm(path, { force: true });
      }
      return found;
    },
  };
}

/**
 * Whether `pid` is still the process that started at `since`, not a later one that got the same
 * pid. A zombie counts: its group may still hold live processes of the job.
 */
export function isSameProcess(pid: number, since: string): boolean {
  return since !== '' && startTime(pid) === since;
}

/** The records in `dir`, each with its path; `record` is undefined for a file that is not one. */
async function readRecords(dir: string): Promise<{ path: string; record: LeftoverRecord | undefined }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return Promise.all(
    names.map(async (name) => {
      const path = join(dir, name);
      const [pgidText, since = ''] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
      const pgid = Number(pgidText);
      const dash = name.lastIndexOf('-');
      const attempt = Number(name.slice(dash + 1));
      const valid = Number.isInteger(pgid) && pgid > 1 && since !== '' && dash > 0 && Number.isInteger(attempt);
      return { path, record: valid ? { jobId: name.slice(0, dash), attempt, pgid, startTime: since } : undefined };
    }),
  );
}

/**
 * Kills (SIGKILL) every process group recorded in `dir` whose leader is still the process that
 * was recorded (same pid and start time), and clears the records. Returns how many it killed.
 */
export async function sweepLeftovers(dir: string, logger: Logger): Promise<number> {
  let killed = 0;
  for (const { path, record } of await readRecords(dir)) {
    if (record && isSameProcess(record.pgid, record.startTime) && signalGroup(record.pgid, 'SIGKILL')) {
      killed++;
      logger.warn({ run: `${record.jobId}-${record.attempt}`, pgid: record.pgid }, 'killed a job process group left running by a previous run of this agent');
    }
    await rm(path, { force: true });
  }
  return killed;
}
