import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LogStream } from '@longshore/client';
import { buildProgram } from './program.js';
import { FakeClient, runWith } from './test-helpers.js';

describe('longshore logs', () => {
  it("writes the job's stdout and stderr to the matching streams", async () => {
    const client = new FakeClient();
    client.logLines = [
      { stream: LogStream.STDOUT, text: 'a' },
      { stream: LogStream.STDERR, text: 'b' },
      { stream: LogStream.SYSTEM, text: 'log truncated' },
      { stream: LogStream.STDOUT, text: '' },
    ];
    const run = await runWith(client, ['logs', 'job-9']);
    expect(run).toEqual({ code: 0, stdout: 'a\n\n', stderr: 'b\nlongshore: log truncated\n' });
    expect(client.calls[0]!.request).toMatchObject({ id: 'job-9', follow: false });
  });

  it('-f follows', async () => {
    const client = new FakeClient();
    await runWith(client, ['logs', '-f', 'job-9']);
    expect(client.calls[0]!.request).toMatchObject({ id: 'job-9', follow: true });
  });

  it('stops quietly with 141 when the reader has gone (| head)', async () => {
    const client = new FakeClient();
    client.logLines = [{ stream: LogStream.STDOUT, text: 'a' }];
    let err = '';
    const stdout = new Writable({ write: (_c, _e, done) => done(new Error('EPIPE')) });
    stdout.on('error', () => undefined);
    stdout.write('x');
    await new Promise((r) => setImmediate(r));
    const stderr = new Writable({ write: (c: Buffer, _e, done) => ((err += c.toString()), done()) });
    const code = await buildProgram({ stdout, stderr, env: {} }, { connect: () => client }).run(['logs', '-f', 'job-9']);
    expect(code).toBe(141);
    expect(err).toBe('');
  });
});
