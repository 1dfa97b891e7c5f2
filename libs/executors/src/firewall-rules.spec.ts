import { describe, expect, it } from 'vitest';
import { buildFirewallRules, firewallChainName, parseOwnerComment } from './firewall-rules.js';
import { hostPort, isLocalAddress, redisAddresses } from './firewall-targets.js';

const reject = ['-j', 'REJECT', '--reject-with', 'tcp-reset'];

describe('job firewall rules', () => {
  it('names a chain per agent and cluster, within iptables\' 28 characters', () => {
    const a = firewallChainName('agent-1|redis://127.0.0.1:6001|ls');
    expect(a).toMatch(/^LSJ-[0-9a-f]{12}$/);
    expect(a.length).toBeLessThanOrEqual(28);
    expect(firewallChainName('agent-1|redis://127.0.0.1:6001|ls')).toBe(a);
    expect(firewallChainName('agent-1|redis://127.0.0.1:6002|ls')).not.toBe(a);
  });

  it('refuses a local port on every local address, in both families, and remote ones by address', () => {
    const rules = buildFirewallRules('LSJ-x', { first: 200000, last: 265535 }, [
      { name: 'redis', port: 6379, where: 'local' },
      { name: 'registry', port: 7401, where: { v4: ['10.0.0.7'], v6: ['fd00::7'] } },
    ]);
    expect(rules.jump).toEqual(['OUTPUT', '-m', 'owner', '--uid-owner', '200000-265535', '-j', 'LSJ-x']);
    expect(rules.v4).toEqual([
      ['-A', 'LSJ-x', '-p', 'tcp', '--dport', '6379', '-m', 'addrtype', '--dst-type', 'LOCAL', ...reject],
      ['-A', 'LSJ-x', '-d', '10.0.0.7', '-p', 'tcp', '--dport', '7401', ...reject],
      ['-A', 'LSJ-x', '-d', '169.254.169.254', '-p', 'tcp', ...reject],
      ['-A', 'LSJ-x', '-d', '169.254.169.254', '-j', 'REJECT'],
    ]);
    expect(rules.v6).toEqual([
      ['-A', 'LSJ-x', '-p', 'tcp', '--dport', '6379', '-m', 'addrtype', '--dst-type', 'LOCAL', ...reject],
      ['-A', 'LSJ-x', '-d', 'fd00::7', '-p', 'tcp', '--dport', '7401', ...reject],
      ['-A', 'LSJ-x', '-d', 'fd00:ec2::254', '-p', 'tcp', ...reject],
      ['-A', 'LSJ-x', '-d', 'fd00:ec2::254', '-j', 'REJECT'],
    ]);
  });

  it('names the agent process in the jump\'s comment, so a later agent can sweep a dead one\'s chain', () => {
    const rules = buildFirewallRules('LSJ-x', { first: 1000, last: 1009 }, [], { pid: 42, startTime: '777' });
    expect(rules.jump).toEqual(['OUTPUT', '-m', 'owner', '--uid-owner', '1000-1009', '-m', 'comment', '--comment', 'longshore-agent:42:777', '-j', 'LSJ-x']);
    expect(parseOwnerComment('longshore-agent:42:777')).toEqual({ pid: 42, startTime: '777' });
    expect(parseOwnerComment('someone-else')).toBeUndefined();
  });

  it('reads addresses from Redis URLs and HOST:PORT', () => {
    expect(redisAddresses('redis://:secret@127.0.0.1:6400/0')).toEqual([{ host: '127.0.0.1', port: 6400 }]);
    expect(redisAddresses('rediss://redis.internal')).toEqual([{ host: 'redis.internal', port: 6379 }]);
    expect(redisAddresses('redis://[::1]:6401')).toEqual([{ host: '::1', port: 6401 }]);
    expect(redisAddresses('redis-cluster://u:p@10.0.0.1:7000,[::1]:7001,redis-c')).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '::1', port: 7001 },
      { host: 'redis-c', port: 6379 },
    ]);
    expect(redisAddresses('redis-sentinel://s1,s2:26380/mymaster')).toEqual([
      { host: 's1', port: 26379 },
      { host: 's2', port: 26380 },
    ]);
    expect(redisAddresses('redis-cluster://h1:7000,h2:7001')).toEqual([{ host: 'h1', port: 7000 }, { host: 'h2', port: 7001 }]);
    expect(hostPort('127.0.0.1:7400')).toEqual({ host: '127.0.0.1', port: 7400 });
    expect(hostPort('[::1]:7401')).toEqual({ host: '::1', port: 7401 });
  });

  it('tells this host\'s addresses from others', () => {
    expect(isLocalAddress('127.0.0.2', [])).toBe(true);
    expect(isLocalAddress('::1', [])).toBe(true);
    expect(isLocalAddress('0.0.0.0', [])).toBe(true);
    expect(isLocalAddress('::ffff:127.0.0.1', [])).toBe(true);
    expect(isLocalAddress('10.1.2.3', ['10.1.2.3'])).toBe(true);
    expect(isLocalAddress('10.1.2.4', ['10.1.2.3'])).toBe(false);
  });
});
