import { createHash } from 'node:crypto';
import type { UidRange } from './job-uids.js';

/** The cloud metadata service (AWS, GCP, Azure, …): it hands out the host's cloud credentials. */
export const METADATA_ADDRESS_V4 = '169.254.169.254';
/** AWS's IPv6 metadata address. */
export const METADATA_ADDRESS_V6 = 'fd00:ec2::254';

/** A service jobs must not reach, as resolved at the agent's start. */
export interface FirewallTarget {
  /** What it is, for logs and the agent's isolation detail: `redis`, `registry`, `dispatcher`. */
  name: string;
  port: number;
  /**
   * `local`: the service is on this host (loopback or one of its addresses), so the port is
   * refused on every local address, whatever address the job tries; otherwise the addresses.
   */
  where: 'local' | { v4: string[]; v6: string[] };
}

/** Argv lists (without the program name) for `iptables` and `ip6tables`. */
export interface FirewallRuleSet {
  chain: string;
  /** Rules of the chain, in order: each is the argv of one `-A chain …` call. */
  v4: string[][];
  v6: string[][];
  /** The rule in OUTPUT that sends the job uids' packets through the chain (argv after `-I`/`-D`). */
  jump: string[];
}

/**
 * The name of an agent's chain: `LSJ-` and 12 hex digits of a hash of `seed` (iptables allows
 * 28 characters). The seed identifies the agent *and* its cluster (id, Redis URL, prefix), so an
 * agent that starts again replaces its own chain, and two test clusters whose agents share an id
 * never touch each other's.
 */
export function firewallChainName(seed: string): string {
  return `LSJ-${createHash('sha256').update(seed).digest('hex').slice(0, 12)}`;
}

/** The comment on an agent's jump rule: `longshore-agent:<pid>:<start time>`. */
export function ownerComment(pid: number, startTime: string): string {
  return `longshore-agent:${pid}:${startTime}`;
}

/** The pid and start time in a jump rule's comment, if it is an agent's. */
export function parseOwnerComment(text: string): { pid: number; startTime: string } | undefined {
  const m = /^longshore-agent:(\d+):(\d+)$/.exec(text);
  return m ? { pid: Number(m[1]), startTime: m[2]! } : undefined;
}

const REJECT_TCP = ['-j', 'REJECT', '--reject-with', 'tcp-reset'];

/**
 * The rules refusing job uids connections to `targets` and to the metadata address: a pure
 * function of its inputs, applied by `installJobFirewall`. A local target is matched by port and
 * `--dst-type LOCAL` (every address of this host, 127.0.0.0/8 and ::1 included), in both
 * families; a remote one by its addresses and port. TCP is reset at once (the client sees
 * ECONNREFUSED); anything else to the metadata address is refused with an ICMP error.
 */
export function buildFirewallRules(chain: string, uids: UidRange, targets: readonly FirewallTarget[], owner?: { pid: number; startTime: string }): FirewallRuleSet {
  const v4: string[][] = [];
  const v6: string[][] = [];
  for (const t of targets) {
    const port = ['-p', 'tcp', '--dport', String(t.port)];
    if (t.where === 'local') {
      const rule = [...port, '-m', 'addrtype', '--dst-type', 'LOCAL', ...REJECT_TCP];
      v4.push(['-A', chain, ...rule]);
      v6.push(['-A', chain, ...rule]);
      continue;
    }
    for (const address of t.where.v4) v4.push(['-A', chain, '-d', address, ...port, ...REJECT_TCP]);
    for (const address of t.where.v6) v6.push(['-A', chain, '-d', address, ...port, ...REJECT_TCP]);
  }
  v4.push(['-A', chain, '-d', METADATA_ADDRESS_V4, '-p', 'tcp', ...REJECT_TCP], ['-A', chain, '-d', METADATA_ADDRESS_V4, '-j', 'REJECT']);
  v6.push(['-A', chain, '-d', METADATA_ADDRESS_V6, '-p', 'tcp', ...REJECT_TCP], ['-A', chain, '-d', METADATA_ADDRESS_V6, '-j', 'REJECT']);
  // The comment names the agent process, so a later agent can remove the chain of one that was
  // killed before it could (see `sweepDeadChains`).
  const comment = owner ? ['-m', 'comment', '--comment', ownerComment(owner.pid, owner.startTime)] : [];
  const jump = ['OUTPUT', '-m', 'owner', '--uid-owner', `${uids.first}-${uids.last}`, ...comment, '-j', chain];
  return { chain, v4, v6, jump };
}
