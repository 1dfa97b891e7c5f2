import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NOTHING_ALLOWED, parseDockerAllow } from '@longshore/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowedRunOptions } from './docker-allowed.js';
import { StartFailedError } from './start-errors.js';

describe("a job's docker options against the agent's allow-list", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'docker-allow-'));
    await mkdir(join(root, 'data', 'in'), { recursive: true });
    await mkdir(join(root, 'secret'));
    await symlink(join(root, 'secret'), join(root, 'data', 'escape'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('passes the secure defaults and what is allowed, with mount sources as real paths', async () => {
    const image = 'busybox:1';
    expect(await allowedRunOptions({ image, user: '1000', readOnlyRoot: true }, NOTHING_ALLOWED, 'a-1')).toEqual({ image, user: '1000', readOnlyRoot: true });
    const allow = parseDockerAllow(`cap=SYS_PTRACE,mount=${root}/data`);
    const ok = await allowedRunOptions({ image, capAdd: ['SYS_PTRACE'], mounts: [{ source: `${root}/data/./in/`, target: '/in', readOnly: true }] }, allow, 'a-1');
    expect(ok.mounts).toEqual([{ source: join(root, 'data', 'in'), target: '/in', readOnly: true }]);
  });

  it('refuses an option that is not allowed, naming it, LONGSHORE_DOCKER_ALLOW and the entry', async () => {
    const refused = allowedRunOptions({ image: 'busybox:1', capAdd: ['SYS_PTRACE'] }, NOTHING_ALLOWED, 'a-1');
    await expect(refused).rejects.toBeInstanceOf(StartFailedError);
    await expect(refused).rejects.toThrow(`capability SYS_PTRACE (docker.cap_add[0]) is not allowed by agent a-1's LONGSHORE_DOCKER_ALLOW`);
  });

  it('refuses a symlink under an allowed path that leads out of it, and a source that does not exist', async () => {
    const allow = parseDockerAllow(`mount=${root}/data`);
    await expect(allowedRunOptions({ image: 'busybox:1', mounts: [{ source: `${root}/data/escape`, target: '/x', readOnly: true }] }, allow, 'a-1')).rejects.toThrow(
      `a mount of host path ${root}/data/escape (its real path is ${root}/secret) (docker.mounts[0].source) is not allowed`,
    );
    await expect(allowedRunOptions({ image: 'busybox:1', mounts: [{ source: `${root}/data/missing`, target: '/x', readOnly: true }] }, allow, 'a-1')).rejects.toThrow(
      `docker.mounts[0].source: host path ${root}/data/missing cannot be mounted on agent a-1`,
    );
  });
});
