import { z } from 'zod';

/** The job uid range default, as a user would write it (`LONGSHORE_JOB_UIDS`). */
export const DEFAULT_JOB_UIDS = '200000-265535';

/** Job uids as configured: a range, or `off` (jobs run as the agent's own user). */
export type JobUidsSetting = { first: number; last: number } | 'off';

/** How the agent firewalls its jobs off from Redis, the API and the metadata address. */
export type JobFirewallSetting = 'auto' | 'on' | 'off';

// uids below 1000 belong to the system on Debian; 2^32-1 is (uid_t)-1, "no change" to setuid.
const MIN_JOB_UID = 1000;
const MAX_JOB_UID = 2 ** 32 - 2;

/** `LONGSHORE_JOB_UIDS`: `FIRST-LAST` (inclusive, 1000 … 4294967294) or `off`. */
export const jobUidsSchema = z.string().transform((text, ctx): JobUidsSetting => {
  if (text === 'off') return 'off';
  const m = /^(\d+)-(\d+)$/.exec(text);
  const first = Number(m?.[1]);
  const last = Number(m?.[2]);
  if (!m || first < MIN_JOB_UID || last > MAX_JOB_UID || first > last) {
    ctx.addIssue({ code: 'custom', message: `must be a uid range FIRST-LAST within ${MIN_JOB_UID}-${MAX_JOB_UID} (e.g. ${DEFAULT_JOB_UIDS}), or off` });
    return z.NEVER;
  }
  return { first, last };
});

/** `LONGSHORE_JOB_FIREWALL`. */
export const jobFirewallSchema = z.enum(['auto', 'on', 'off']);
