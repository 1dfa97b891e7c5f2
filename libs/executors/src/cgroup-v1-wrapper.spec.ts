import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@longshore/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCgroupV1Limiter } from './cgroup-v1.js';
import { probeCgroupV1 } from './cgroup-v1-probe.js';
import { wrapInCgroup } from './cgroup-v1-wrapper.js';
import type { RunOutcome } from './executor.js';
import { runCollecting, testEnv, type CollectedRun } from './spec-helpers.js';
import { createSubprocessExecutor } from './subprocess-executor.js';
import { agentCgroupName, probeRunCgroups } from './run-cgroup.js';
import { startSubprocess } from './subprocess-run.js';

const MiB = 1024 * 1024;
const cgroup = await probeCgroupV1();
const runCgroups = await probeRunCgroups(agentCgroupName(`wrapper-spec-${process.pid}`));
const skipCgroup = !cgroup.usable && process.env['CI'] !== 'true';
if (!cgroup.usable) {
  console.warn(`cgroup-v1-wrapper.spec: cgroup v1 tests ${skipCgroup ? 'skipped' : 'will fail (CI=true)'}: ${cgroup.reason}`);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'longshore-wrapper-'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin', 'tool'), '#!/bin/sh\necho "tool $0 $*"\n', { mode: 0o755 });
  writeFileSync(join(dir, 'bin', 'not-executable'), '#!/bin/sh\necho ran\n', { mode: 0o644 });
  writeFileSync(join(dir, 'bad-interpreter'), '#!/nonexistent/interpreter\necho ran\n', { mode: 0o755 });
  writeFileSync(join(dir, 'no-shebang'), 'echo "ran as a script"\n', { mode: 0o755 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('wrapInCgroup', () => {
  it('never runs the job when it cannot move itself into the cgroup', () => {
    const marker = join(dir, 'ran');
    const [file = '', ...args] = wrapInCgroup('/nonexistent/cgroup.procs', ['touch', marker], testEnv());
    const result = spawnSync(file, args, { env: testEnv(), encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('/nonexistent/cgroup.procs');
    expect(existsSync(marker)).toBe(false);
  });
});

describe.skipIf(skipCgroup)('cgroup v1 wrapper: the job sees what it would see without a limit', () => {
  const plain = createSubprocessExecutor();
  const limited = createSubprocessExecutor({ memoryLimiter: 'cgroup-v1' });
  // Behind the gate of a run cgroup, with and without a memory limit.
  const tracked = runCgroups.usable ? createSubprocessExecutor({ memoryLimiter: 'cgroup-v1', cgroups: runCgroups.cgroups }) : undefined;
  afterAll(() => (runCgroups.usable ? runCgroups.cgroups.remove() : undefined));

  beforeAll(() => {
    if (!cgroup.usable) throw new Error(`cgroup v1 is required under CI=true: ${cgroup.reason}`);
  });

  const seen = (run: CollectedRun) => ({ outcome: run.outcome, lines: run.lines.map(({ stream, text }) => ({ stream, text })) });
  const cases: { name: string; command: () => string[]; env?: () => Record<string, string>; cwd?: boolean }[] = [
    { name: 'a program not on PATH', command: () => ['longshore-no-such-program'] },
    { name: 'a path that does not exist', command: () => ['/nonexistent/program'] },
    { name: 'a directory', command: () => [dir] },
    { name: 'a file without the execute bit, by path', command: () => [join(dir, 'bin', 'not-executable')] },
    { name: 'a file without the execute bit, on PATH', command: () => ['not-executable'], env: () => testEnv({ PATH: `${join(dir, 'bin')}:/usr/bin:/bin` }) },
    { name: 'a script whose #! interpreter is missing', command: () => [join(dir, 'bad-interpreter')] },
    { name: 'a script without #!', command: () => [join(dir, 'no-shebang')] },
    { name: 'a program found on the job’s PATH, with its argv', command: () => ['tool', '-x', '$HOME', 'a b'], env: () => testEnv({ PATH: `${join(dir, 'bin')}:/usr/bin:/bin` }) },
    { name: 'a relative path in the working dir', command: () => ['./bin/tool'], cwd: true },
    { name: 'the exact env, without PWD', command: () => ['env'], env: () => ({ PATH: '/usr/bin:/bin', FOO: 'bar baz' }) },
    {
      name: 'the exact env, with the variables a shell sets itself',
      command: () => ['env'],
      env: () => ({ PATH: '/usr/bin:/bin', PWD: '/bogus', IFS: 'x', PPID: '5', OPTIND: '7', LINENO: '9' }),
    },
    { name: 'the exact env, with the variable the gate reads into', command: () => ['env'], env: () => ({ PATH: '/usr/bin:/bin', longshore_gate: 'mine' }) },
  ];

  it.each(cases)('$name', async ({ command, env, cwd }) => {
    const overrides = { ...(env ? { env: env() } : {}), ...(cwd ? { workingDir: dir } : {}) };
    const without = await runCollecting(plain, command(), overrides);
    const withLimit = await runCollecting(limited, command(), { ...overrides, memoryBytes: 256 * MiB });
    const sortEnv = (run: CollectedRun) => (command()[0] === 'env' ? { ...seen(run), lines: seen(run).lines.sort((a, b) => a.text.localeCompare(b.text)) } : seen(run));
    expect(sortEnv(withLimit)).toEqual(sortEnv(without));
    if (!tracked) throw new Error(`run cgroups are required here: ${runCgroups.usable ? '' : runCgroups.reason}`);
    expect(sortEnv(await runCollecting(tracked, command(), overrides))).toEqual(sortEnv(without));
    expect(sortEnv(await runCollecting(tracked, command(), { ...overrides, memoryBytes: 256 * MiB }))).toEqual(sortEnv(without));
  });

  it('reports start_failed, not an exit, when the job could not be moved into its cgroup', async () => {
    if (!cgroup.usable) throw new Error(`cgroup v1 is required under CI=true: ${cgroup.reason}`);
    const real = createCgroupV1Limiter(cgroup.parentDir, silentLogger());
    const marker = join(dir, 'moved-not');
    const lines: string[] = [];
    const handle = await startSubprocess(
      { jobId: 'job-unmovable', attempt: 1, command: ['touch', marker], env: testEnv(), memoryBytes: 64 * MiB, onLine: (_s, text) => lines.push(text) },
      new AbortController().signal,
      {
        maxLineBytes: 1024,
        memoryLimiter: () =>
          Promise.resolve({
            kind: 'enforce',
            limiter: {
              kind: 'cgroup-v1',
              prepare: async (run) => {
                const guard = await real.prepare(run);
                // The guard as it is, but its wrapper writes somewhere it cannot.
                return { wrap: (c, e) => wrapInCgroup('/nonexistent/cgroup.procs', c, e), attach: guard.attach.bind(guard), release: guard.release.bind(guard) };
              },
            },
          }),
      },
    );
    const outcome: RunOutcome = await handle.wait();
    expect(outcome.kind).toBe('start_failed');
    expect(outcome.kind === 'start_failed' ? outcome.message : '').toMatch(/^could not move the job into its memory cgroup .*longshore-\d+-job-unmovable-1-/);
    expect(lines.join('\n')).toContain('/nonexistent/cgroup.procs');
    expect(existsSync(marker)).toBe(false);
  });
});
