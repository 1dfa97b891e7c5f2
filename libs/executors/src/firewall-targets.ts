import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { FirewallTarget } from './firewall-rules.js';

/** A service by name and address as configured (`HOST:PORT`, or a Redis URL). */
export interface ServiceAddress {
  name: string;
  host: string;
  port: number;
}

/**
 * Every address a Redis URL lists: the one server of `redis://` / `rediss://` (port 6379 when
 * it names none), or each node of a
 * `redis-cluster://` / `redis-sentinel://` host list (default ports 6379 / 26379). A Cluster's
 * other nodes and the data nodes Sentinels name are learned at run time and are not in it.
 * (The URL was validated by the config; this only splits it.)
 */
export function redisAddresses(url: string): { host: string; port: number }[] {
  const multi = /^(redis-cluster|redis-sentinel):\/\/(?:[^@/?#]*@)?([^/?#]*)/i.exec(url);
  if (!multi) {
    const u = new URL(url);
    return [{ host: stripBrackets(u.hostname || '127.0.0.1'), port: u.port ? Number(u.port) : 6379 }];
  }
  const defaultPort = multi[1]!.toLowerCase() === 'redis-cluster' ? 6379 : 26379;
  return multi[2]!.split(',').map((item) => {
    const at = item.startsWith('[') ? item.indexOf(']') + 1 : item.lastIndexOf(':');
    return at > 0 && item[at] === ':' ? { host: stripBrackets(item.slice(0, at)), port: Number(item.slice(at + 1)) } : { host: stripBrackets(item), port: defaultPort };
  });
}

/** Host and port of a `HOST:PORT` or `[V6]:PORT` address. */
export function hostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: stripBrackets(address.slice(0, at)), port: Number(address.slice(at + 1)) };
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Whether `address` is one of this host's: loopback, unspecified, or on one of its interfaces. */
export function isLocalAddress(address: string, own: readonly string[] = ownAddresses()): boolean {
  if (address.startsWith('127.') || address === '::1' || address === '0.0.0.0' || address === '::') return true;
  if (address.startsWith('::ffff:')) return isLocalAddress(address.slice(7), own);
  return own.includes(address);
}

function ownAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

/**
 * Resolves each service to a firewall target: `local` when any of its addresses is this host's
 * (then the port is refused on every local address), else its addresses by family. A name that
 * does not resolve is an error naming the service: without its address the rule cannot be made.
 */
export async function resolveFirewallTargets(services: readonly ServiceAddress[]): Promise<FirewallTarget[]> {
  const out: FirewallTarget[] = [];
  for (const s of services) {
    let addresses: string[];
    try {
      addresses = isIP(s.host) ? [s.host] : (await lookup(s.host, { all: true })).map((a) => a.address);
    } catch (err) {
      throw new Error(`cannot resolve the ${s.name} address "${s.host}" to make the job firewall rule for it: ${(err as Error).message}`, { cause: err });
    }
    const remote = addresses.filter((a) => !isLocalAddress(a));
    if (remote.length < addresses.length) out.push({ name: s.name, port: s.port, where: 'local' });
    if (remote.length > 0) {
      out.push({ name: s.name, port: s.port, where: { v4: remote.filter((a) => isIP(a) === 4), v6: remote.filter((a) => isIP(a) === 6) } });
    }
  }
  return out;
}
