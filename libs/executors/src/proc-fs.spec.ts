import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { signalGroup } from './process-group.js';
import { listGroupMembers, pageSize, parseProcStat } from './proc-fs.js';

// Fields 3..24 of /proc/<pid>/stat: state ppid pgrp session tty_nr tpgid flags minflt cminflt
// majflt cmajflt utime stime cutime cstime priority nice num_threads itrealvalue starttime vsize rss
const tail = 'S 1 4242 4242 0 -1 4194560 10 0 0 0 0 0 0 0 20 0 1 0 100 2000000 321 18446744073709551615';

describe('parseProcStat', () => {
  it('reads the process group and RSS, whatever the command name holds', () => {
    expect(parseProcStat(7, `7 (sleep) ${tail}`)).toEqual({ pid: 7, pgrp: 4242, rssPages: 321 });
    expect(parseProcStat(7, `7 (a b) c) (d) ${tail}`)).toEqual({ pid: 7, pgrp: 4242, rssPages: 321 });
  });

  it('returns undefined for text it does not understand', () => {
    expect(parseProcStat(7, '7 (x) S 1')).toBeUndefined();
  });
});

describe('listGroupMembers', () => {
  it('finds every live process of a group and nothing else', async () => {
    // The shell says when both sleeps are forked: from then on the group has exactly three members
    // (however long a loaded machine took to get there), so the list is read after that, not after a guess.
    const child = spawn('sh', ['-c', 'sleep 30 & sleep 30 & echo forked; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    await once(child, 'spawn');
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()).includes('forked') && resolve());
        child.once('exit', () => reject(new Error(`sh exited before forking its sleeps: ${out}`)));
      });
      const members = await listGroupMembers(child.pid!);
      expect(members.map((m) => m.pid)).toContain(child.pid);
      expect(members).toHaveLength(3);
      expect(members.every((m) => m.pgrp === child.pid && m.rssPages > 0)).toBe(true);
      expect(members.map((m) => m.pid)).not.toContain(process.pid);
    } finally {
      signalGroup(child.pid!, 'SIGKILL');
    }
  });
});

describe('pageSize', () => {
  it('is a power of two of at least 4 KiB', async () => {
    const size = await pageSize();
    expect(size).toBeGreaterThanOrEqual(4096);
    expect(size & (size - 1)).toBe(0);
  });
});
