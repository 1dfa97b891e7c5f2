import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './program.js';
import type { CliContext, CliIO } from './context.js';
import { UsageError } from './errors.js';
import { FakeClient } from './test-helpers.js';

function memoryIO(): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) }),
    stderr: new Writable({ write: (c: Buffer, _e, done) => ((err += c.toString()), done()) }),
    env: {},
    out: () => out,
    err: () => err,
  };
}

describe('buildProgram extraCommands', () => {
  const extraCommands = (program: Command, ctx: CliContext): void => {
    program
      .command('hello')
      .description('say hello')
      .option('--fail')
      .action((flags: { fail?: boolean }) => {
        if (flags.fail) throw new UsageError('--fail was given');
        ctx.io.stdout.write(`hello via ${ctx.globals().dispatcher}\n`);
        ctx.setExitCode(7);
      });
  };

  it('adds commands that share the context, exit code and help', async () => {
    const io = memoryIO();
    const code = await buildProgram(io, { connect: () => new FakeClient(), extraCommands }).run(['--dispatcher', 'd:1', 'hello']);
    expect(code).toBe(7);
    expect(io.out()).toBe('hello via d:1\n');

    const help = memoryIO();
    await buildProgram(help, { connect: () => new FakeClient(), extraCommands }).run(['--help']);
    expect(help.out()).toContain('hello');
  });

  it("routes the added commands' usage errors like the built-in ones", async () => {
    const io = memoryIO();
    const code = await buildProgram(io, { connect: () => new FakeClient(), extraCommands }).run(['hello', '--fail']);
    expect(code).toBe(2);
    expect(io.err()).toBe('longshore: error: --fail was given\n');
  });

  it('opens no client for commands that do not need one', async () => {
    let opened = 0;
    const io = memoryIO();
    await buildProgram(io, {
      connect: () => {
        opened++;
        return new FakeClient();
      },
      extraCommands,
    }).run(['hello']);
    expect(opened).toBe(0);
  });
});
