import { readFileSync } from 'node:fs';
import { addPrioritizedJob } from 'bullmq/dist/esm/scripts/addPrioritizedJob-9.js';
import { extendLocks } from 'bullmq/dist/esm/scripts/extendLocks-1.js';
import { moveJobFromActiveToWait } from 'bullmq/dist/esm/scripts/moveJobFromActiveToWait-9.js';
import { moveStalledJobsToWait } from 'bullmq/dist/esm/scripts/moveStalledJobsToWait-9.js';
import { moveToActive } from 'bullmq/dist/esm/scripts/moveToActive-11.js';
import { moveToDelayed } from 'bullmq/dist/esm/scripts/moveToDelayed-11.js';
import { moveToFinished } from 'bullmq/dist/esm/scripts/moveToFinished-14.js';
import { removeJob } from 'bullmq/dist/esm/scripts/removeJob-2.js';
import type { Redis } from '@longshore/store';

/**
 * The lifecycle scripts (lua/*.lua), each one atomic step over a job's record and BullMQ's
 * queue. BullMQ's own scripts stay the source of truth for the queue's structure: each script
 * embeds the ones it needs as Lua functions (`bull_<name>(KEYS, ARGV)`; a script's body reads
 * KEYS and ARGV as globals, so taking them as parameters turns it into a function unchanged).
 * Loaded once per connection and called by SHA (ioredis `defineCommand`).
 *
 * Pinned to bullmq 6.7.0: the claim splices its pick into BullMQ's moveToActive at a known line,
 * and building the scripts fails loudly if the installed BullMQ no longer has it.
 */

const lua = (name: string): string => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');

const bull = (name: string, content: string): string => `local function bull_${name}(KEYS, ARGV)\n${content}\nend\n`;

const ANCHOR = '-- no job ID, try non-blocking move from wait to active';

/** BullMQ's moveToActive up to its "pop the head" step, then Longshore's pick (pick.lua). */
function fitClaimFunction(): string {
  const base = moveToActive.content;
  const at = base.indexOf(ANCHOR);
  const needed = ['local opts = cmsgpack.unpack(ARGV[3])', 'local function prepareJobForProcessing', 'local limiterDuration', 'local markerKey = KEYS[11]', 'promoteDelayedJobs(delayedKey'];
  if (at < 0 || needed.some((s) => !base.includes(s))) {
    throw new Error('the installed bullmq no longer has the moveToActive script Longshore extends (pinned to bullmq 6.7.0): update libs/queue/src/scripts.ts and lua/pick.lua');
  }
  // The delayed jobs BullMQ's prelude is about to promote (same bounds), so the pick can index them.
  const due = `P.dueIds = redis.call('ZRANGEBYSCORE', KEYS[7], 0, (tonumber(ARGV[2]) + 1) * 0x1000 - 1, 'LIMIT', 0, 1000)\n`;
  return `local function fitClaim(KEYS, ARGV, P)\n${due}${base.slice(0, at)}\n${lua('pick')}\nend\n`;
}

/** Script name → how many KEYS it takes and its source. */
function buildScripts(): Record<string, { numberOfKeys: number; lua: string }> {
  const common = lua('common');
  const fitClaim = `${fitClaimFunction()}\n${lua('claim-many')}`;
  return {
    lsSubmit: { numberOfKeys: 11, lua: [common, bull('addPrioritizedJob', addPrioritizedJob.content), lua('submit')].join('\n') },
    lsClaim: { numberOfKeys: 13, lua: [common, fitClaim, lua('claim')].join('\n') },
    lsFinish: {
      numberOfKeys: 15,
      lua: [common, fitClaim, bull('moveToDelayed', moveToDelayed.content), bull('moveToFinished', moveToFinished.content), lua('finish')].join('\n'),
    },
    lsHandBack: { numberOfKeys: 9, lua: [common, bull('moveJobFromActiveToWait', moveJobFromActiveToWait.content), lua('hand-back')].join('\n') },
    lsCancel: { numberOfKeys: 2, lua: [common, bull('removeJob', removeJob.content), lua('cancel')].join('\n') },
    lsSweep: { numberOfKeys: 9, lua: [common, bull('moveStalledJobsToWait', moveStalledJobsToWait.content), lua('sweep')].join('\n') },
    lsReopen: { numberOfKeys: 10, lua: [common, bull('addPrioritizedJob', addPrioritizedJob.content), lua('reopen')].join('\n') },
    lsAppendLogs: { numberOfKeys: 2, lua: lua('append-logs') },
    lsRecordRun: { numberOfKeys: 1, lua: [common, lua('record-run')].join('\n') },
    lsHeldBy: { numberOfKeys: 1, lua: [common, lua('held-by')].join('\n') },
    lsAdopt: { numberOfKeys: 2, lua: [common, lua('adopt')].join('\n') },
    lsTrim: { numberOfKeys: 2, lua: lua('trim') },
    lsExtendLocks: { numberOfKeys: extendLocks.keys, lua: extendLocks.content },
  };
}

let built: ReturnType<typeof buildScripts> | undefined;

export type ScriptName =
  | 'lsSubmit'
  | 'lsClaim'
  | 'lsFinish'
  | 'lsHandBack'
  | 'lsCancel'
  | 'lsSweep'
  | 'lsReopen'
  | 'lsAppendLogs'
  | 'lsTrim'
  | 'lsExtendLocks'
  | 'lsRecordRun'
  | 'lsHeldBy'
  | 'lsAdopt';

type ScriptFn = (...args: (string | number | Buffer)[]) => Promise<unknown>;

/** Runs a lifecycle script on `redis` (defined on the connection at first use, then by SHA). */
export function runScript(redis: Redis, name: ScriptName, keys: string[], args: (string | number | Buffer)[]): Promise<unknown> {
  const r = redis as unknown as Record<string, ScriptFn | undefined>;
  if (!r[name]) {
    built ??= buildScripts();
    for (const [n, def] of Object.entries(built)) if (!r[n]) redis.defineCommand(n, def);
  }
  return (r[name] as ScriptFn)(...keys, ...args);
}

/** Builds every script (a check that the installed BullMQ still has the shape they need). */
export function checkScripts(): void {
  built ??= buildScripts();
}
