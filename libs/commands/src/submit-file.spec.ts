import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Executor, JobView, type JobSpec } from '@longshore/client';
import { FakeClient, runWith } from './test-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'longshore-cli-'));
});

async function jsonl(name: string, lines: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, lines.join('\n'));
  return path;
}

function batch(client: FakeClient): JobSpec[] {
  expect(client.methods()).toEqual(['submitJobs']);
  return (client.calls[0]!.request as { specs: JobSpec[] }).specs;
}

describe('longshore submit --file', () => {
  it('submits every line in one SubmitJobs call, command-line flags as defaults', async () => {
    const path = await jsonl('good.jsonl', [
      '{"command": ["echo", "a"]}',
      '',
      '{"command": ["echo", "b"], "pool": "other", "weight_milli": 500, "env": {"A": "line"}, "labels": {"k": "v"}}',
      '{"command": ["echo", "c"], "executor": "docker", "timeoutMs": "5000"}',
    ]);
    const client = new FakeClient();
    const run = await runWith(client, ['submit', '--pool', 'ingest', '--weight', '0.25', '--timeout', '30s', '--env', 'A=flag', '--env', 'B=flag', '--file', path]);
    expect(run).toMatchObject({ code: 0, stdout: 'job-1\njob-2\njob-3\n', stderr: '' });
    const specs = batch(client);
    expect(specs.map((s) => s.command)).toEqual([['echo', 'a'], ['echo', 'b'], ['echo', 'c']]);
    expect(specs[0]).toMatchObject({ pool: 'ingest', weightMilli: 250, timeoutMs: 30000n, env: { A: 'flag', B: 'flag' } });
    expect(specs[1]).toMatchObject({ pool: 'other', weightMilli: 500, env: { A: 'line', B: 'flag' }, labels: { k: 'v' } });
    expect(specs[2]).toMatchObject({ pool: 'ingest', executor: Executor.DOCKER, timeoutMs: 5000n });
    // Only ids are printed, so only the basic view is asked for.
    expect((client.calls[0]!.request as { view: JobView }).view).toBe(JobView.BASIC);
  });

  it('reports every bad line by number, exits 2 and submits nothing', async () => {
    const path = await jsonl('bad.jsonl', ['{"command": ["ok"]}', '{"command": ["echo"], ', '{"command": ["ok"]}', '{"pool": "no-command"}', '{"comand": ["typo"]}']);
    const client = new FakeClient();
    const run = await runWith(client, ['submit', '--file', path]);
    expect(run.code).toBe(2);
    const lines = run.stderr.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${path}:2: not valid JSON`));
    expect(lines[1]).toMatch(new RegExp(`^${path}:4: no command`));
    expect(lines[2]).toMatch(new RegExp(`^${path}:5: .*comand`));
    expect(run.stderr).toContain('3 bad lines');
    expect(run.stdout).toBe('');
    expect(client.calls).toEqual([]);
  });

  it('reads specs from stdin with --file - and prints a JSON array with --json', async () => {
    const client = new FakeClient();
    const run = await runWith(client, ['submit', '--json', '--file', '-'], { stdin: '{"command": ["a"]}\n{"command": ["b"]}\n' });
    expect(run.code).toBe(0);
    const jobs = JSON.parse(run.stdout) as { id: string }[];
    expect(jobs.map((j) => j.id)).toEqual(['job-1', 'job-2']);
    expect(batch(client)).toHaveLength(2);
  });

  it.each([
    [['--file', 'x.jsonl', '--', 'echo'], '--file reads the commands from the file'],
    [['--file', 'x.jsonl', '--wait'], '--wait follows one job'],
    [['--file', 'x.jsonl', '--idempotency-key', 'k'], '--idempotency-key would give every line the same key'],
    [['--file', '/nonexistent/jobs.jsonl'], 'cannot read it'],
  ])('%j is a usage error', async (flags, message) => {
    const client = new FakeClient();
    const run = await runWith(client, ['submit', ...flags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(client.calls).toEqual([]);
  });

  it('refuses an empty file', async () => {
    const path = await jsonl('empty.jsonl', ['', '  ']);
    const run = await runWith(new FakeClient(), ['submit', '--file', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('has no job specs');
  });

  it('gives the command line\'s docker options to lines without their own, as a whole', async () => {
    const path = await jsonl('docker.jsonl', ['{"command": ["a"]}', '{"command": ["b"], "docker": {"user": "42"}}']);
    const client = new FakeClient();
    const run = await runWith(client, ['submit', '--image', 'busybox:1', '--user', '1000', '--read-only', '--file', path]);
    expect(run.stderr).toBe('');
    const [a, b] = batch(client);
    expect(a!.docker).toMatchObject({ user: '1000', readOnlyRoot: true });
    expect(b!.docker).toMatchObject({ user: '42', readOnlyRoot: false });
  });
});
