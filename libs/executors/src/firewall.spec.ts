import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { silentLogger } from '@longshore/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installJobFirewall, iptablesProblem, runIptables, sweepDeadJobFirewalls } from './firewall.js';
import { buildFirewallRules, firewallChainName } from './firewall-rules.js';
import { processStartTime } from './proc-fs.js';

// Real rules need root and iptables; under CI=true these tests must run, elsewhere they are skipped.
const problem = process.getuid?.() !== 0 ? 'not root' : await iptablesProblem('iptables');
const ci = process.env['CI'] === 'true';
if (problem) console.warn(`firewall.spec: ${ci ? 'will fail (CI=true)' : 'skipped'}: ${problem}`);
const RANGE = { first: 310010, last: 310019 };

/** What `uid` gets when it connects to 127.0.0.1:`port`: "connected" or the error code. */
function connectAs(uid: number, port: number): Promise<string> {
  const script = `require('net').connect(${port}, '127.0.0.1').on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { uid, gid: uid, cwd: '/', env: {}, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', () => resolve(out.trim()));
  });
}

describe.skipIf(problem !== undefined && !ci)('job firewall (real iptables)', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    if (problem) throw new Error(`the job firewall needs root and iptables under CI=true: ${problem}`);
    server = createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => server?.close());

  it('refuses job uids a local port, lets others through, and leaves nothing behind when closed', async () => {
    const chain = firewallChainName(`firewall.spec|${process.pid}|${port}`);
    const rules = buildFirewallRules(chain, RANGE, [{ name: 'test', port, where: 'local' }]);
    const firewall = await installJobFirewall(rules, silentLogger());
    try {
      expect(await connectAs(RANGE.first, port)).toBe('ECONNREFUSED');
      expect(await connectAs(RANGE.last, port)).toBe('ECONNREFUSED');
      expect(await connectAs(RANGE.last + 1, port)).toBe('connected');
      // Installing again (an agent restarting with the same id) replaces the chain: one jump, same rules.
      const again = await installJobFirewall(rules, silentLogger());
      expect(again.chain).toBe(chain);
      const jumps = (await runIptables('iptables', ['-S', 'OUTPUT'])).split('\n').filter((l) => l.endsWith(`-j ${chain}`));
      expect(jumps).toHaveLength(1);
      expect(await connectAs(RANGE.first, port)).toBe('ECONNREFUSED');
    } finally {
      await firewall.close();
    }
    expect((await runIptables('iptables', ['-S'])).includes(chain)).toBe(false);
    expect(await connectAs(RANGE.first, port)).toBe('connected');
  });

  it('removes the chain of an agent that died without closing it, and never a live one\'s', async () => {
    const dead = spawnSync('sh', ['-c', 'echo $$; cut -d" " -f22 /proc/$$/stat'], { encoding: 'utf8' }).stdout.trim().split('\n');
    const deadChain = firewallChainName(`firewall.spec|dead|${process.pid}`);
    const liveChain = firewallChainName(`firewall.spec|live|${process.pid}`);
    const target = [{ name: 'test', port, where: 'local' as const }];
    const me = { pid: process.pid, startTime: processStartTime(process.pid)! };
    const leftBehind = await installJobFirewall(buildFirewallRules(deadChain, RANGE, target, { pid: Number(dead[0]), startTime: dead[1]! }), silentLogger());
    const live = await installJobFirewall(buildFirewallRules(liveChain, RANGE, target, me), silentLogger());
    const other = firewallChainName(`firewall.spec|other|${process.pid}`);
    const third = await installJobFirewall(buildFirewallRules(other, RANGE, target, me), silentLogger());
    try {
      const listing = await runIptables('iptables', ['-S']);
      expect(listing.includes(deadChain)).toBe(false);
      expect(listing.includes(liveChain)).toBe(true);
    } finally {
      await Promise.all([leftBehind.close(), live.close(), third.close()]);
    }
    const after = await runIptables('iptables', ['-S']);
    expect([deadChain, liveChain, other].filter((c) => after.includes(c))).toEqual([]);
    // A harness that killed agents can sweep their chains itself.
    await installJobFirewall(buildFirewallRules(deadChain, RANGE, target, { pid: Number(dead[0]), startTime: dead[1]! }), silentLogger());
    await sweepDeadJobFirewalls();
    expect((await runIptables('iptables', ['-S'])).includes(deadChain)).toBe(false);
  });
});
