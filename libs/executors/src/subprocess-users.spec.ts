import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@longshore/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeCgroupV1 } from './cgroup-v1-probe.js';
import { buildJobEnv } from './job-env.js';
import { createUidPool, type UidPool } from './job-uids.js';
import { listProcessesOfUid } from './proc-fs.js';
import { runCollecting, texts } from './spec-helpers.js';
import { createSubprocessExecutor } from './subprocess-executor.js';

// Real uid switching needs root; under CI=true these tests must run, elsewhere they are skipped.
const root = process.getuid?.() === 0;
if (!root) console.warn(`subprocess-users.spec: ${process.env['CI'] === 'true' ? 'will fail (CI=true)' : 'skipped'}: not root`);
// A range of its own, so this file never shares uids with the agents of end-to-end tests.
const RANGE = { first: 310000, last: 310009 };
const MiB = 1024 * 1024;

describe.skipIf(!root && process.env['CI'] !== 'true')('subprocess executor: a uid of its own per job', () => {
  let dir: string;
  let users: UidPool;
  let jobDir: string;
  let n = 0;
  const privateDir = () => join(jobDir, `job-${++n}`);
  const request = (pd: string) => ({ privateDir: pd, env: buildJobEnv({ inherit: process.env, jobEnv: {}, jobId: 'job-test', attempt: 1, privateDir: pd }) });

  beforeAll(async () => {
    if (!root) throw new Error('running jobs as other uids needs root (CI=true)');
    dir = mkdtempSync(join(tmpdir(), 'subprocess-users-'));
    chmodSync(dir, 0o711); // jobs pass through to their directories, as under LONGSHORE_JOB_DIR
    jobDir = join(dir, 'jobs');
    mkdirSync(jobDir, { mode: 0o711 });
    users = await createUidPool({ range: RANGE, logger: silentLogger(), lockDir: join(dir, 'locks') });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs as an unprivileged uid in a private 0700 directory that is its HOME and holds its TMPDIR', async () => {
    const executor = createSubprocessExecutor({ users, memoryLimiter: 'none' });
    const pd = privateDir();
    const run = await runCollecting(executor, ['sh', '-c', 'id -u; id -g; grep ^Groups: /proc/self/status; echo "$HOME $TMPDIR"; pwd; stat -c "%a %u" . "$TMPDIR"'], request(pd));
    expect(run.outcome).toEqual({ kind: 'exited', exitCode: 0 });
    const [uid, gid, groups, homeTmp, cwd, dirMode, tmpMode] = texts(run);
    expect(Number(uid)).toBeGreaterThanOrEqual(RANGE.first);
    expect(Number(uid)).toBeLessThanOrEqual(RANGE.last);
    expect(gid).toBe(uid);
    expect(groups?.trim()).toBe('Groups:'); // no supplementary groups
    expect(homeTmp).toBe(`${pd} ${pd}/tmp`);
    expect(cwd).toBe(pd);
    expect(dirMode).toBe(`700 ${uid}`);
    expect(tmpMode).toBe(`700 ${uid}`);
    expect(existsSync(pd)).toBe(false); // removed afterwards
  });

  it('cannot read the agent\'s environment or signal it', async () => {
    const executor = createSubprocessExecutor({ users, memoryLimiter: 'none' });
    const run = await runCollecting(
      executor,
      ['sh', '-c', `cat /proc/${process.pid}/environ >/dev/null 2>&1 && echo read-env; kill -0 ${process.pid} 2>&1 || echo no-signal`],
      request(privateDir()),
    );
    expect(texts(run)).not.toContain('read-env');
    expect(texts(run).join('\n')).toMatch(/Operation not permitted|no-signal/);
  });

  it('kills what escaped its process group and removes its files from /tmp when it ends', async () => {
    const executor = createSubprocessExecutor({ users, memoryLimiter: 'none' });
    const marker = `longshore-users-spec-${process.pid}-${Date.now()}`;
    const run = await runCollecting(executor, ['sh', '-c', `id -u; touch /tmp/${marker}; setsid sleep 300 </dev/null >/dev/null 2>&1 & echo started`], request(privateDir()));
    const uid = Number(texts(run)[0]);
    expect(texts(run)).toContain('started');
    expect(listProcessesOfUid(uid)).toEqual([]);
    expect(existsSync(`/tmp/${marker}`)).toBe(false);
  });

  it('gives two jobs running at once different uids', async () => {
    const executor = createSubprocessExecutor({ users, memoryLimiter: 'none' });
    const runs = await Promise.all([1, 2].map(() => runCollecting(executor, ['sh', '-c', 'id -u; sleep 0.5'], request(privateDir()))));
    const [a, b] = runs.map((r) => texts(r)[0]);
    expect(a).not.toBe(b);
  });

  it('refuses to start in a working directory its uid cannot enter, naming it', async () => {
    const executor = createSubprocessExecutor({ users, memoryLimiter: 'none' });
    const closed = mkdtempSync(join(tmpdir(), 'closed-')); // 0700, root's
    try {
      const run = await runCollecting(executor, ['true'], { ...request(privateDir()), workingDir: closed });
      expect(run.outcome.kind).toBe('start_failed');
      expect(run.outcome.kind === 'start_failed' ? run.outcome.message : '').toMatch(new RegExp(`working directory "${closed}" cannot be entered by the job's user \\(uid \\d+\\)`));
    } finally {
      rmSync(closed, { recursive: true });
    }
    expect(readdirSync(jobDir)).toEqual([]);
  });

  it('runs in a working directory its uid can enter', async () => {
    const executor = createSubprocessExecutor({ users, memoryLimiter: 'none' });
    const open = mkdtempSync(join(tmpdir(), 'open-'));
    try {
      writeFileSync(join(open, 'hello'), 'hi\n');
      chmodSync(open, 0o755);
      const run = await runCollecting(executor, ['sh', '-c', 'pwd; cat hello'], { ...request(privateDir()), workingDir: open });
      expect(texts(run)).toEqual([open, 'hi']);
    } finally {
      rmSync(open, { recursive: true });
    }
  });

  it('keeps the cgroup v1 memory limit working when the job runs as its own uid', async () => {
    const cgroup = await probeCgroupV1();
    if (!cgroup.usable) {
      if (process.env['CI'] === 'true') throw new Error(`cgroup v1 is required under CI=true: ${cgroup.reason}`);
      return;
    }
    const executor = createSubprocessExecutor({ users, memoryLimiter: 'cgroup-v1' });
    const hog = 'const a = []; setInterval(() => a.push(Buffer.alloc(16 * 1024 * 1024, 1)), 20);';
    const run = await runCollecting(executor, [process.execPath, '-e', hog], { ...request(privateDir()), memoryBytes: 64 * MiB });
    expect(run.outcome.kind).toBe('oom');
    expect(run.outcome.kind === 'oom' ? run.outcome.message : '').toMatch(/cgroup v1/);
    const ok = await runCollecting(executor, ['sh', '-c', 'id -u; cat /proc/self/cgroup | grep memory'], { ...request(privateDir()), memoryBytes: 64 * MiB });
    expect(ok.outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(texts(ok)[1]).toMatch(/memory:.*longshore-/);
  });
});
