import { isFinalState, type JobStateName } from '@longshore/domain';
import type { Redis } from './redis.js';
import { poolOfJob, type Keys } from './keys.js';

/** One stored line of a job's output. `cursor` resumes reading after it. */
export interface StoredLogLine {
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
  /** Epoch milliseconds, from the stream entry id. */
  time: number;
  cursor: string;
}

/** A page of a job's log; `ended` once the job reached a final state and nothing more will come. */
export interface LogPage {
  lines: StoredLogLine[];
  ended: boolean;
  cursor: string;
}

const STREAM_ID = /^\d+-\d+$/;

/** Whether `cursor` is a log position this reader gave out. */
export function isLogCursor(cursor: string): boolean {
  return STREAM_ID.test(cursor);
}

/**
 * Reads a job's log stream from just after `after` ('' = the beginning), up to `count` entries.
 * The job's state is read first: a job already final then has all its lines stored (an agent
 * stores its last lines before it records the end), so reading them all means the log ended.
 */
export async function readLogPage(redis: Redis, keys: Keys, id: string, after: string, count = 500): Promise<LogPage> {
  const k = keys.pool(poolOfJob(id));
  const state = (await redis.hget(k.record(id), 'state')) as JobStateName | null;
  const start = after ? `(${after}` : '-';
  const entries = await redis.xrange(k.log(id), start, '+', 'COUNT', count);
  const page: LogPage = { lines: [], ended: false, cursor: after };
  for (const [entryId, fields] of entries) {
    page.cursor = entryId;
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    page.lines.push({
      stream: (f['s'] ?? 'stdout') as StoredLogLine['stream'],
      text: f['t'] ?? '',
      time: Number(entryId.split('-')[0]),
      cursor: entryId,
    });
  }
  page.ended = (state === null || isFinalState(state)) && entries.length < count;
  return page;
}
