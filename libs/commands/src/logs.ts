import type { Command } from 'commander';
import { LogStream, type LogLine } from '@longshore/client';
import type { CliContext, CliIO } from './context.js';
import { EXAMPLE_JOB_ID, examples } from './examples.js';
import { writeLine } from './output.js';

/**
 * Writes one job log line where it belongs: the job's stdout to stdout, its stderr to stderr, and
 * Longshore's own lines (start, truncation, failure) to stderr prefixed `longshore: `.
 */
export async function writeLogLine(io: Pick<CliIO, 'stdout' | 'stderr'>, line: LogLine): Promise<void> {
  if (line.stream === LogStream.STDOUT) await writeLine(io.stdout, line.text);
  else if (line.stream === LogStream.SYSTEM) await writeLine(io.stderr, `longshore: ${line.text}`);
  else await writeLine(io.stderr, line.text);
}

/** Registers `longshore logs ID [-f]`. */
export function registerLogs(program: Command, ctx: CliContext): void {
  program
    .command('logs')
    .description("print a job's output: its stdout to stdout, its stderr to stderr")
    .argument('<id>', 'job id, as printed by "longshore submit"')
    .option('-f, --follow', 'keep printing until the job finishes')
    .addHelpText('after', examples(`longshore logs ${EXAMPLE_JOB_ID}`, `longshore logs -f ${EXAMPLE_JOB_ID} | grep ERROR`))
    .action(async (id: string, opts: { follow?: boolean }) => {
      for await (const line of ctx.client().logs(id, { follow: opts.follow ?? false })) await writeLogLine(ctx.io, line);
    });
}
