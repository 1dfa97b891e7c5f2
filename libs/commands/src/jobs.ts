import { Option, type Command } from 'commander';
import { JobSchema, JobState } from '@longshore/client';
import { JOB_STATES, type JobStateName } from '@longshore/domain';
import type { CliContext } from './context.js';
import { EXAMPLE_JOB_ID, examples } from './examples.js';
import { enumWord, shellQuote } from './format.js';
import { renderJob, renderJobTable } from './job-view.js';
import { intArg, labelArg, nameArg } from './option-parsers.js';
import { writeMessagesJson } from './output.js';

/** `--state` takes the job states as the domain spells them; each names the proto value of the same name. */
type StateWord = JobStateName;
const stateOf = (word: StateWord): JobState => JobState[word.toUpperCase() as Uppercase<StateWord>];

interface ListFlags {
  pool?: string;
  state?: StateWord;
  label?: Record<string, string>;
  limit?: number;
  pageToken?: string;
}

/** The command that fetches the next page, with the same filters. */
function nextPageCommand(flags: ListFlags, token: string): string {
  const args = ['longshore', 'jobs', 'ls'];
  if (flags.pool) args.push('--pool', flags.pool);
  if (flags.state) args.push('--state', flags.state);
  for (const [k, v] of Object.entries(flags.label ?? {})) args.push('--label', `${k}=${v}`);
  if (flags.limit) args.push('--limit', String(flags.limit));
  return shellQuote([...args, '--page-token', token]);
}

async function listJobs(ctx: CliContext, flags: ListFlags, cmd: Command): Promise<void> {
  const res = await ctx.client().dispatcher.listJobs({
    pool: flags.pool ?? '',
    state: flags.state ? stateOf(flags.state) : JobState.UNSPECIFIED,
    labels: flags.label ?? {},
    pageSize: flags.limit ?? 0,
    pageToken: flags.pageToken ?? '',
  });
  if (ctx.json(cmd)) writeMessagesJson(ctx.io.stdout, JobSchema, res.jobs);
  else ctx.io.stdout.write(renderJobTable(res.jobs, ctx.now()));
  if (res.nextPageToken) ctx.io.stderr.write(`next page: ${nextPageCommand(flags, res.nextPageToken)}\n`);
}

/** Registers `longshore jobs get|ls|cancel|retry`. */
export function registerJobs(program: Command, ctx: CliContext): void {
  const jobs = program.command('jobs').description('look at, cancel and re-run jobs');

  jobs
    .command('get')
    .description("show a job: its state, spec, exit and every attempt")
    .argument('<id>', 'job id')
    .option('--json', 'print the job as protobuf JSON')
    .addHelpText('after', examples(`longshore jobs get ${EXAMPLE_JOB_ID}`, `longshore jobs get --json ${EXAMPLE_JOB_ID} | jq .state`))
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const job = await ctx.client().getJob(id);
      if (ctx.json(cmd)) writeMessagesJson(ctx.io.stdout, JobSchema, job);
      else ctx.io.stdout.write(renderJob(job, ctx.now(), ctx.io.env['LONGSHORE_TRACE_URL']?.trim() || undefined));
    });

  jobs
    .command('ls')
    .description('list jobs, newest first')
    .option('--pool <pool>', 'only this pool', nameArg)
    .addOption(new Option('--state <state>', 'only jobs in this state').choices(JOB_STATES))
    .option('--label <K=V>', 'only jobs with this label; repeatable', labelArg)
    .option('--limit <n>', 'jobs per page (default 50)', intArg(1, 500, '100'))
    .option('--page-token <token>', 'continue where the previous page ended')
    .option('--json', 'print the jobs as a JSON array')
    .addHelpText('after', examples('longshore jobs ls', 'longshore jobs ls --pool ingest --state failed --label team=data --limit 20'))
    .action((flags: ListFlags, cmd: Command) => listJobs(ctx, flags, cmd));

  jobs
    .command('cancel')
    .description('cancel a job: a queued job is removed, a running one is killed by its agent')
    .argument('<id>', 'job id')
    .option('--json', 'print the job as protobuf JSON')
    .addHelpText('after', examples(`longshore jobs cancel ${EXAMPLE_JOB_ID}`))
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const { job } = await ctx.client().dispatcher.cancelJob({ id });
      if (!job) return;
      if (ctx.json(cmd)) writeMessagesJson(ctx.io.stdout, JobSchema, job);
      else ctx.io.stdout.write(`${enumWord(JobState, job.state)}\n`);
    });

  jobs
    .command('retry')
    .description('run a finished job again, as a new attempt (its record and log go on)')
    .argument('<id>', 'job id')
    .option('--json', 'print the job as protobuf JSON')
    .addHelpText('after', examples(`longshore jobs retry ${EXAMPLE_JOB_ID}`, `longshore jobs retry ${EXAMPLE_JOB_ID} && longshore logs -f ${EXAMPLE_JOB_ID}`))
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const { job } = await ctx.client().dispatcher.retryJob({ id });
      if (!job) return;
      if (ctx.json(cmd)) writeMessagesJson(ctx.io.stdout, JobSchema, job);
      else ctx.io.stdout.write(`${enumWord(JobState, job.state)}\n`);
    });
}
