import { describe, expect, it } from 'vitest';
import { Code, LongshoreError } from '@longshore/client';
import { FakeClient, runWith } from './test-helpers.js';

describe('errors and exit codes', () => {
  it('prints a LongshoreError as one line and exits 1', async () => {
    const client = new FakeClient();
    client.failWith = new LongshoreError(Code.NotFound, 'pool "ingest-eu" does not exist (pools: default)');
    const run = await runWith(client, ['submit', '--pool', 'ingest-eu', '--', 'true']);
    expect(run).toEqual({ code: 1, stdout: '', stderr: 'longshore: error: pool "ingest-eu" does not exist (pools: default)\n' });
  });

  it('a refusal from the server (INVALID_ARGUMENT) is exit 1, not a usage error', async () => {
    const client = new FakeClient();
    client.failWith = new LongshoreError(Code.InvalidArgument, 'weight: 2 is heavier than pool "default" accepts (1)');
    const run = await runWith(client, ['submit', '--weight', '2', '--', 'true']);
    expect(run.code).toBe(1);
  });

  it('adds a hint naming the dispatcher flag when the dispatcher is unavailable', async () => {
    const client = new FakeClient();
    client.failWith = new LongshoreError(Code.Unavailable, 'cannot reach 127.0.0.1:7400: connection refused');
    const run = await runWith(client, ['jobs', 'ls']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'longshore: error: cannot reach 127.0.0.1:7400: connection refused\n' +
        'longshore: hint: is the cluster running? start it with "longshore up", or set --dispatcher/LONGSHORE_DISPATCHER\n',
    );
  });

  it('names the registry flag when the registry is the one unavailable', async () => {
    const client = new FakeClient();
    client.failWith = new LongshoreError(Code.Unavailable, 'cannot reach registry.internal:7401: connection refused');
    const run = await runWith(client, ['--registry', 'registry.internal:7401', 'pools', 'ls']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('or set --registry/LONGSHORE_REGISTRY');
  });

  it('an unknown command is a usage error (exit 2) with a suggestion', async () => {
    const run = await runWith(new FakeClient(), ['submti']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("longshore: error: unknown command 'submti'");
    expect(run.stderr).toContain('submit');
  });

  it('a missing argument is a usage error', async () => {
    const run = await runWith(new FakeClient(), ['jobs', 'get']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("missing required argument 'id'");
  });

  it('no command at all prints help to stderr and exits 2', async () => {
    const run = await runWith(new FakeClient(), []);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: longshore');
  });

  it('--help exits 0 on stdout, lists the commands, and does not mention commands not registered', async () => {
    const run = await runWith(new FakeClient(), ['--help']);
    expect(run.code).toBe(0);
    for (const verb of ['submit', 'jobs', 'logs', 'pools', 'agents']) expect(run.stdout).toContain(`  ${verb}`);
    expect(run.stdout).not.toMatch(/\bup\b/);
    expect(run.stderr).toBe('');
  });

  it('an unexpected error exits 1 without crashing', async () => {
    const client = new FakeClient();
    client.dispatcher.listJobs = () => Promise.reject(new TypeError('boom'));
    const run = await runWith(client, ['jobs', 'ls']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('longshore: unexpected error: TypeError: boom');
  });

  it('closes the client it opened', async () => {
    const client = new FakeClient();
    client.failWith = new LongshoreError(Code.Internal, 'internal error');
    await runWith(client, ['jobs', 'ls']);
    expect(client.closed).toBe(true);
  });
});
