import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/** One process as seen in `/proc/<pid>/stat`. */
export interface ProcStat {
  pid: number;
  /** Its process group id. */
  pgrp: number;
  /** Resident set size, in pages. */
  rssPages: number;
}

/**
 * Parses `/proc/<pid>/stat` (proc(5)). The command name is in parentheses and may itself hold
 * spaces and `)`, so the fields are counted from the last `)`.
 */
export function parseProcStat(pid: number, text: string): ProcStat | undefined {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state (field 3), ppid (4), pgrp (5), … rss (24).
  const pgrp = Number(fields[2]);
  const rssPages = Number(fields[21]);
  if (!Number.isInteger(pgrp) || !Number.isInteger(rssPages)) return undefined;
  return { pid, pgrp, rssPages };
}

/**
 * The live processes of the group `pgid` (zombies have an RSS of 0 and do no harm). Processes
 * that exit while the scan runs are skipped: their files vanish between `readdir` and `readFile`.
 */
export async function listGroupMembers(pgid: number, procRoot = '/proc'): Promise<ProcStat[]> {
  const names = await readdir(procRoot);
  const stats = await Promise.all(
    names.filter((name) => /^\d+$/.test(name)).map(async (name) => {
      const pid = Number(name);
      try {
        return parseProcStat(pid, await readFile(`${procRoot}/${name}/stat`, 'utf8'));
      } catch (err) {
        if (isGoneError(err)) return undefined;
        throw err;
      }
    }),
  );
  return stats.filter((s): s is ProcStat => s !== undefined && s.pgrp === pgid);
}

let pageSizePromise: Promise<number> | undefined;

/** The kernel's page size (RSS in `/proc/<pid>/stat` counts pages); 4096 when `getconf` cannot say. */
export function pageSize(): Promise<number> {
  // Node has no API for it; getconf asks sysconf(_SC_PAGESIZE), once per process.
  pageSizePromise ??= new Promise((resolve) => {
    execFile('getconf', ['PAGESIZE'], { timeout: 5000 }, (err, stdout) => {
      const size = Number(stdout.trim());
      resolve(err === null && Number.isInteger(size) && size > 0 ? size : 4096);
    });
  });
  return pageSizePromise;
}

/**
 * Makes `pid` the kernel's first choice when the host runs out of memory (`oom_score_adj` 1000),
 * so a runaway job is killed before the agent. Raising it needs no privilege; failures (the
 * process is gone, `/proc` is read-only) are ignored: this is a preference, not a limit.
 */
export function raiseOomScore(pid: number, procRoot = '/proc'): void {
  if (pid === process.pid) return;
  try {
    writeFileSync(`${procRoot}/${pid}/oom_score_adj`, '1000');
  } catch {
    // best effort, see above
  }
}

/**
 * A process's start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`), to tell it
 * from a later process that got the same pid; undefined when there is no such process.
 */
export function processStartTime(pid: number, procRoot = '/proc'): string | undefined {
  return statFields(pid, procRoot)?.[19];
}

/** A process's state letter (field 3 of `/proc/<pid>/stat`: R, S, D, Z…); undefined when there is no such process. */
export function processState(pid: number, procRoot = '/proc'): string | undefined {
  return statFields(pid, procRoot)?.[0];
}

/** The fields of `/proc/<pid>/stat` after the command name (field 3 on), or undefined when there is no such process. */
function statFields(pid: number, procRoot: string): string[] | undefined {
  try {
    const stat = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * The live (not zombie) processes whose real, effective or saved uid is `uid`, from
 * `/proc/<pid>/status`: a job with a uid of its own cannot hide from this by leaving its process
 * group (`setsid`), as it can from a process-group scan. Synchronous on purpose: one small read
 * per process is ~10x faster than through the thread pool (~4 ms for 100 processes).
 */
export function listProcessesOfUid(uid: number, procRoot = '/proc'): number[] {
  const found: number[] = [];
  for (const name of readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    let text: string;
    try {
      text = readFileSync(`${procRoot}/${name}/status`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const ids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(text)?.slice(1, 4).map(Number) ?? [];
    if (ids.includes(uid) && !/^State:\s+[ZX]/m.test(text)) found.push(Number(name));
  }
  return found;
}

/** Whether `err` says the process or file is gone (it exited): ENOENT, ESRCH. */
export function isGoneError(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOENT' || code === 'ESRCH';
}

/** The `code` of a Node system error, if it is one. */
export function errnoCode(err: unknown): string | undefined {
  return err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
}
