import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCollecting, testEnv, texts } from './spec-helpers.js';
import { StartFailedError } from './start-errors.js';
import { createSubprocessExecutor } from './subprocess-executor.js';

const executor = createSubprocessExecutor();
const node = (script: string): string[] => [process.execPath, '-e', script];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'longshore-executors-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('subprocess executor: running and output', () => {
  it('can run here and says so', async () => {
    expect(executor.name).toBe('subprocess');
    await expect(executor.probe(new AbortController().signal)).resolves.toEqual({ healthy: true });
  });

  it('captures output lines and the exit code', async () => {
    const run = await runCollecting(executor, ['sh', '-c', 'echo hello; exit 3']);
    expect(run.outcome).toEqual({ kind: 'exited', exitCode: 3 });
    expect(texts(run)).toEqual(['hello']);
  });

  it('tells stdout from stderr', async () => {
    const run = await runCollecting(executor, ['sh', '-c', 'echo out; echo err >&2; echo out2']);
    expect(run.outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(texts(run, 'stdout')).toEqual(['out', 'out2']);
    expect(texts(run, 'stderr')).toEqual(['err']);
  });

  it('delivers lines while the job still runs', async () => {
    // The job goes on only once the test has received "first" (it waits for a file the test
    // creates on that line): lines held back until the end would leave it saying "not seen".
    const dir = mkdtempSync(join(tmpdir(), 'longshore-executors-'));
    try {
      const seen = join(dir, 'seen');
      const script = `echo first; i=0; while [ ! -e '${seen}' ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; [ -e '${seen}' ] && echo second || echo not seen`;
      const run = await runCollecting(executor, ['sh', '-c', script], {
        onLine: (line) => {
          if (line.text === 'first') writeFileSync(seen, '');
        },
      });
      expect(texts(run)).toEqual(['first', 'second']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes argv as is, without a shell', async () => {
    const run = await runCollecting(executor, ['echo', '$HOME; echo injected', '*']);
    expect(texts(run)).toEqual(['$HOME; echo injected *']);
  });

  it('gives the child exactly the env passed, nothing of the agent', async () => {
    process.env['SECRET_X'] = 'leaked';
    try {
      const run = await runCollecting(executor, ['sh', '-c', 'echo "${SECRET_X:-unset}"']);
      expect(texts(run)).toEqual(['unset']);
    } finally {
      delete process.env['SECRET_X'];
    }
    const env = { PATH: '/usr/bin:/bin', FOO: 'bar baz' };
    const run = await runCollecting(executor, ['env'], { env });
    expect(texts(run).sort()).toEqual(['FOO=bar baz', 'PATH=/usr/bin:/bin']);
  });

  it('looks the program up on the PATH of the job env, not the agent', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'longshore-test-tool'), '#!/bin/sh\necho tool ran\n', { mode: 0o755 });
    const run = await runCollecting(executor, ['longshore-test-tool'], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    expect(run.outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(texts(run)).toEqual(['tool ran']);
  });

  it('runs in the working dir', async () => {
    const run = await runCollecting(executor, ['pwd'], { workingDir: dir });
    expect(texts(run).map((p) => realpathSync(p))).toEqual([realpathSync(dir)]);
  });

  it('reports 128 + n when the job is killed by a signal it did not get from us', async () => {
    const killed = await runCollecting(executor, ['sh', '-c', 'kill -KILL $$']);
    expect(killed.outcome).toEqual({ kind: 'exited', exitCode: 137 });
    const terminated = await runCollecting(executor, ['sh', '-c', 'kill -TERM $$']);
    expect(terminated.outcome).toEqual({ kind: 'exited', exitCode: 143 });
  });

  it('emits final output that has no newline', async () => {
    const run = await runCollecting(executor, ['sh', '-c', 'printf "line\\nno newline"; printf "tail" >&2']);
    expect(texts(run, 'stdout')).toEqual(['line', 'no newline']);
    expect(texts(run, 'stderr')).toEqual(['tail']);
  });

  it('cuts long lines into pieces of maxLineBytes', async () => {
    const run = await runCollecting(executor, node(`process.stdout.write('x'.repeat(40000) + '\\nshort\\n')`));
    expect(texts(run).map((t) => t.length)).toEqual([16384, 16384, 40000 - 2 * 16384, 5]);
    const small = createSubprocessExecutor({ maxLineBytes: 4 });
    expect(texts(await runCollecting(small, ['echo', 'abcdefghij']))).toEqual(['abcd', 'efgh', 'ij']);
  });

  it('decodes a UTF-8 character whose bytes arrive in separate chunks', async () => {
    const script = `process.stdout.write(Buffer.from([0xe2, 0x82]));
      setTimeout(() => process.stdout.write(Buffer.from([0xac, 0x0a])), 200);`;
    const run = await runCollecting(executor, node(script));
    expect(texts(run)).toEqual(['€']);
  });

  it('keeps concurrent runs apart', async () => {
    const [a, b] = await Promise.all([
      runCollecting(executor, ['sh', '-c', 'for i in 1 2 3; do echo a$i; sleep 0.1; done; exit 1']),
      runCollecting(executor, ['sh', '-c', 'for i in 1 2 3; do echo b$i; sleep 0.1; done; exit 2']),
    ]);
    expect([a.outcome, texts(a)]).toEqual([{ kind: 'exited', exitCode: 1 }, ['a1', 'a2', 'a3']]);
    expect([b.outcome, texts(b)]).toEqual([{ kind: 'exited', exitCode: 2 }, ['b1', 'b2', 'b3']]);
  });

  it('rejects nonsensical options when created', () => {
    expect(() => createSubprocessExecutor({ maxLineBytes: 0 })).toThrow(/maxLineBytes/);
  });

  it('refers to its run by pid and the start time /proc gives that process, so a reused pid is never taken for it', async () => {
    const run = await runCollecting(executor, ['sh', '-c', 'echo $$; cut -d" " -f22 /proc/$$/stat']);
    const [pid, startTime] = texts(run);
    expect(run.handle?.ref).toEqual({ kind: 'subprocess', pid: Number(pid), startTime });
  });

  it('stops the job and rejects when onLine throws', { timeout: 90_000 }, async () => {
    const boom = new Error('log sink broken');
    const started = Date.now();
    const run = runCollecting(executor, ['sh', '-c', 'echo x; sleep 300'], {
      onLine: () => {
        throw boom;
      },
    });
    await expect(run).rejects.toMatchObject({ message: expect.stringMatching(/onLine threw.*job-test/), cause: boom });
    expect(Date.now() - started).toBeLessThan(60_000); // sanity: stopped, not left to its 300 s
  });
});

describe('subprocess executor: start failures', () => {
  it('refuse the start itself with a StartFailedError: there is no run to wait for', async () => {
    const start = executor.start({ jobId: 'j', attempt: 1, command: ['nosuchcmd-longshore'], env: testEnv({ PATH: '/usr/bin:/bin' }), onLine: () => undefined }, new AbortController().signal);
    await expect(start).rejects.toBeInstanceOf(StartFailedError);
    await expect(start).rejects.toThrow('command "nosuchcmd-longshore" not found on PATH (/usr/bin:/bin)');
  });

  it('reports a command not on PATH, naming it and the PATH', async () => {
    const run = await runCollecting(executor, ['nosuchcmd-longshore', 'arg'], { env: testEnv({ PATH: '/usr/bin:/bin' }) });
    expect(run.outcome).toEqual({
      kind: 'start_failed',
      message: 'command "nosuchcmd-longshore" not found on PATH (/usr/bin:/bin)',
    });
    expect(run.lines).toEqual([]);
  });

  it('reports a missing program path', async () => {
    const run = await runCollecting(executor, [join(dir, 'missing-tool')]);
    expect(run.outcome).toMatchObject({ kind: 'start_failed', message: expect.stringContaining(`"${join(dir, 'missing-tool')}" not found`) });
  });

  it('reports a file that is not executable', async () => {
    const file = join(dir, 'not-executable.sh');
    writeFileSync(file, '#!/bin/sh\necho hi\n');
    chmodSync(file, 0o644);
    const run = await runCollecting(executor, [file]);
    expect(run.outcome).toMatchObject({ kind: 'start_failed', message: expect.stringContaining(`"${file}" is not executable`) });
  });

  it('reports a missing working dir, naming it', async () => {
    const missing = join(dir, 'no-such-dir');
    const run = await runCollecting(executor, ['pwd'], { workingDir: missing });
    expect(run.outcome).toEqual({ kind: 'start_failed', message: `working directory "${missing}" does not exist` });
  });

  it('reports a working dir that is a file', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, '');
    const run = await runCollecting(executor, ['pwd'], { workingDir: file });
    expect(run.outcome).toEqual({ kind: 'start_failed', message: `working directory "${file}" is not a directory` });
  });

  it('reports an empty command', async () => {
    for (const command of [[], ['']]) {
      const run = await runCollecting(executor, command);
      expect(run.outcome).toMatchObject({ kind: 'start_failed', message: expect.stringContaining('command is empty') });
    }
  });

  it('reports arguments spawn refuses (a NUL byte)', async () => {
    const run = await runCollecting(executor, ['echo', 'a\0b']);
    expect(run.outcome).toMatchObject({ kind: 'start_failed', message: expect.stringContaining('command "echo" failed to start') });
  });
});
