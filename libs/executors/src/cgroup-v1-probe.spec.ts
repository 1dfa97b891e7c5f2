import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findMemoryMount, ownMemoryCgroup, probeCgroupV1 } from './cgroup-v1-probe.js';

const HOST = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
// A container that sees only its own cgroup, mounted read-only, with optional fields before "-".
const CONTAINER = '900 899 0:32 /docker/abc /sys/fs/cgroup/memory ro,nosuid master:12 - cgroup cgroup rw,memory';
const V2_ONLY = '30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate';

describe('findMemoryMount', () => {
  it('finds the v1 memory hierarchy, its root and where it is mounted', () => {
    expect(findMemoryMount(HOST)).toEqual({ root: '/', mountPoint: '/sys/fs/cgroup/memory' });
    expect(findMemoryMount(CONTAINER)).toEqual({ root: '/docker/abc', mountPoint: '/sys/fs/cgroup/memory' });
    expect(findMemoryMount('1 0 0:1 / /mnt/with\\040space rw - cgroup none rw,memory')?.mountPoint).toBe('/mnt/with space');
  });

  it('finds nothing on a cgroup v2 only host', () => {
    expect(findMemoryMount(V2_ONLY)).toBeUndefined();
  });
});

describe('ownMemoryCgroup', () => {
  it('reads the memory line, also when controllers are mounted together', () => {
    expect(ownMemoryCgroup('5:devices:/\n4:memory:/process_api/x\n0::/')).toBe('/process_api/x');
    expect(ownMemoryCgroup('4:cpu,memory:/a/b\n')).toBe('/a/b');
    expect(ownMemoryCgroup('0::/user.slice\n')).toBeUndefined();
  });
});

describe('probeCgroupV1 (fixtures)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'longshore-probe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const probe = (mountinfo: string, selfCgroup: string) => {
    writeFileSync(join(dir, 'mountinfo'), mountinfo);
    writeFileSync(join(dir, 'cgroup'), selfCgroup);
    return probeCgroupV1({ mountinfo: join(dir, 'mountinfo'), selfCgroup: join(dir, 'cgroup') });
  };

  it('says why it cannot be used', async () => {
    await expect(probe(V2_ONLY, '0::/\n')).resolves.toEqual({ usable: false, reason: 'no cgroup v1 memory hierarchy is mounted' });
    await expect(probe(CONTAINER, '4:memory:/other\n')).resolves.toEqual({
      usable: false,
      reason: "the agent's memory cgroup /other is outside the mounted hierarchy (/docker/abc)",
    });
  });

  it('refuses a directory that is not a memory cgroup', async () => {
    const fake = `1 0 0:1 / ${dir} rw - cgroup none rw,memory`;
    const result = await probe(fake, '4:memory:/\n');
    expect(result.usable).toBe(false);
    expect(result.usable ? '' : result.reason).toMatch(/memory\.oom_control|cannot set a memory limit/);
  });
});
