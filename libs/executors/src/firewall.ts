import { execFile } from 'node:child_process';
import type { Logger } from '@longshore/telemetry';
import { parseOwnerComment, type FirewallRuleSet } from './firewall-rules.js';
import { processStartTime } from './proc-fs.js';

/** Runs one `iptables`/`ip6tables` call; rejects with its stderr when it fails. */
export type IptablesRunner = (program: 'iptables' | 'ip6tables', args: string[]) => Promise<string>;

/** The real runner: `execFile` with an argv (never a shell), waiting for the xtables lock. */
export const runIptables: IptablesRunner = (program, args) =>
  new Promise((resolve, reject) => {
    execFile(program, ['-w', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${program} ${args.join(' ')} failed: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
  });

/** An installed firewall; `close()` removes its chain and its jump (idempotent). */
export interface JobFirewall {
  readonly chain: string;
  /** `ipv4`, and `ipv6` when ip6tables is present and usable. */
  readonly families: readonly ('ipv4' | 'ipv6')[];
  close(): Promise<void>;
}

/** Why `program` cannot be used here (absent, not permitted), or undefined when it can. */
export async function iptablesProblem(program: 'iptables' | 'ip6tables', run: IptablesRunner = runIptables): Promise<string | undefined> {
  try {
    await run(program, ['-S', 'OUTPUT']);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Installs `rules` in the filter table: the agent's own chain (created, or flushed when an earlier
 * run of this agent left it) filled with the rules, and one jump to it at the top of OUTPUT for
 * the job uid range. Only this chain and jumps to it are ever touched; OUTPUT is never flushed.
 * IPv6 is skipped (and logged) when ip6tables is absent or unusable; an IPv4 failure rejects,
 * after removing what was installed.
 */
export async function installJobFirewall(rules: FirewallRuleSet, logger: Logger, run: IptablesRunner = runIptables): Promise<JobFirewall> {
  const families: ('ipv4' | 'ipv6')[] = [];
  const installed: ('iptables' | 'ip6tables')[] = [];
  try {
    await installFamily('iptables', rules, rules.v4, run);
    installed.push('iptables');
    families.push('ipv4');
    const v6Problem = await iptablesProblem('ip6tables', run);
    if (v6Problem === undefined) {
      await installFamily('ip6tables', rules, rules.v6, run);
      installed.push('ip6tables');
      families.push('ipv6');
    } else {
      logger.info({ reason: v6Problem }, 'ip6tables is not usable here: job firewall rules cover IPv4 only');
    }
  } catch (err) {
    for (const program of ['iptables', 'ip6tables'] as const) await removeFamily(program, rules.chain, run).catch(() => undefined);
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    chain: rules.chain,
    families,
    close: () =>
      (closing ??= (async () => {
        for (const program of installed) {
          await removeFamily(program, rules.chain, run).catch((err: unknown) => logger.warn({ err, chain: rules.chain }, `could not remove the job firewall chain; remove it with ${program} -D OUTPUT … -j ${rules.chain}; ${program} -F ${rules.chain}; ${program} -X ${rules.chain}`));
        }
      })()),
  };
}

async function installFamily(program: 'iptables' | 'ip6tables', rules: FirewallRuleSet, chainRules: string[][], run: IptablesRunner): Promise<void> {
  const { chain } = rules;
  await sweepDeadChains(program, chain, run);
  const exists = await run(program, ['-S', chain]).then(
    () => true,
    () => false,
  );
  await run(program, exists ? ['-F', chain] : ['-N', chain]);
  for (const rule of chainRules) await run(program, rule);
  await deleteJumps(program, chain, run);
  const [table = 'OUTPUT', ...match] = rules.jump;
  await run(program, ['-I', table, '1', ...match]);
}

async function removeFamily(program: 'iptables' | 'ip6tables', chain: string, run: IptablesRunner): Promise<void> {
  const exists = await run(program, ['-S', chain]).then(
    () => true,
    () => false,
  );
  if (!exists) return;
  await deleteJumps(program, chain, run);
  await run(program, ['-F', chain]);
  await run(program, ['-X', chain]);
}

/**
 * Removes the job firewall chains of every agent on this host that is no longer running (killed
 * before it could remove its own); agents do this themselves when they start, and a test harness
 * can call it after killing agents. Never touches a live agent's chain. Never rejects: where
 * iptables is not usable there is nothing to sweep.
 */
export async function sweepDeadJobFirewalls(run: IptablesRunner = runIptables): Promise<void> {
  for (const program of ['iptables', 'ip6tables'] as const) {
    if ((await iptablesProblem(program, run)) === undefined) await sweepDeadChains(program, '', run).catch(() => undefined);
  }
}

/**
 * Removes the chains of agents that were killed before they could remove them: a jump from
 * OUTPUT to an `LSJ-` chain whose comment names a process that is no longer running (same pid
 * and start time). Chains without such a comment, and live agents' chains, are left alone.
 */
async function sweepDeadChains(program: 'iptables' | 'ip6tables', mine: string, run: IptablesRunner): Promise<void> {
  const listing = await run(program, ['-S', 'OUTPUT']);
  for (const line of listing.split('\n')) {
    const args = splitRule(line);
    const chain = args.at(-1) ?? '';
    const comment = args[args.indexOf('--comment') + 1] ?? '';
    const owner = parseOwnerComment(comment);
    if (!chain.startsWith('LSJ-') || chain === mine || !owner || processStartTime(owner.pid) === owner.startTime) continue;
    await removeFamily(program, chain, run).catch(() => undefined);
  }
}

/** Deletes every rule of OUTPUT that jumps to `chain` (ours: no quoted arguments). */
async function deleteJumps(program: 'iptables' | 'ip6tables', chain: string, run: IptablesRunner): Promise<void> {
  const listing = await run(program, ['-S', 'OUTPUT']);
  for (const line of listing.split('\n')) {
    const args = splitRule(line);
    if (args[0] !== '-A' || args.at(-1) !== chain || args.at(-2) !== '-j') continue;
    await run(program, ['-D', ...args.slice(1)]);
  }
}

/** One line of `iptables -S` as an argv: ours hold no spaces, but iptables quotes comments. */
function splitRule(line: string): string[] {
  return line.trim().split(/\s+/).map((arg) => arg.replace(/^"(.*)"$/, '$1'));
}
