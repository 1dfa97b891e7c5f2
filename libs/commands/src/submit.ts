import { Option, type Command } from 'commander';
import { Executor, JobSchema, JobView, type JobSpec } from '@longshore/client';
import { LIMITS } from '@longshore/domain';
import type { CliContext, CliIO } from './context.js';
import { UsageError } from './errors.js';
import { examples } from './examples.js';
import { parseJobLines } from './jsonl.js';
import {
  EXECUTOR_WORDS,
  allowArg,
  buildArgArg,
  buildStepArg,
  bytesArg,
  capabilityArg,
  cpusArg,
  deviceArg,
  dockerLabelArg,
  mountArg,
  repeatable,
  durationArg,
  retriesArg,
  envArg,
  intArg,
  labelArg,
  milliArg,
  nameArg,
} from './option-parsers.js';
import { writeMessagesJson } from './output.js';
import { specFromFlags, type SubmitFlags } from './submit-options.js';
import { followJob } from './wait.js';

const HELP_EXAMPLES = examples(
  'longshore submit -- sh -c "echo hello from $(hostname)"',
  'longshore submit --pool ingest --weight 0.5 --timeout 30m --env LOG_LEVEL=debug -- python ingest.py --full',
  'longshore submit --executor docker --image python:3.12 --memory 512Mi --wait -- python -c "print(42)"',
  'longshore submit --executor docker --image busybox:1 --user 1000 --cpus 0.5 --read-only --mount /data/in:/in:ro -- cat /in/list',
  'longshore submit --pool nightly --label batch=2024-06-01 --file jobs.jsonl',
);

const FILE_HELP = `
With --file, each non-empty line is one job spec in protobuf JSON, e.g.
  {"command": ["python", "ingest.py", "--source", "s3://a"], "weightMilli": 500, "labels": {"source": "a"}}
Flags given on the command line are defaults for lines that lack them. Every line is checked
first; if any is bad, nothing is submitted.`;

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) text += String(chunk);
  return text;
}

async function readSpecsText(path: string, io: CliIO): Promise<string> {
  try {
    // Loaded here: node:fs/promises (with the streams and readline it pulls in) is not needed to start.
    if (path !== '-') return await (await import('node:fs/promises')).readFile(path, 'utf8');
    if (!io.stdin) throw new Error('no standard input');
    return await readAll(io.stdin);
  } catch (err) {
    throw new UsageError(`--file ${JSON.stringify(path)}: cannot read it: ${(err as Error).message}`);
  }
}

async function submitFile(ctx: CliContext, path: string, defaults: JobSpec, json: boolean): Promise<void> {
  const source = path === '-' ? 'stdin' : path;
  const { specs, errors } = parseJobLines(await readSpecsText(path, ctx.io), source, defaults);
  if (errors.length > 0) {
    for (const e of errors) ctx.io.stderr.write(`${e}\n`);
    throw new UsageError(`${errors.length} bad line${errors.length === 1 ? '' : 's'} in ${source}; nothing was submitted`);
  }
  if (specs.length === 0) throw new UsageError(`${source} has no job specs (one JSON object per line, e.g. {"command": ["echo", "hi"]})`);
  if (specs.length > LIMITS.batchSize) {
    throw new UsageError(`${source} has ${specs.length} job specs; one batch takes at most ${LIMITS.batchSize}: split the file`);
  }
  // Without --json only the ids are printed: ask for no more.
  const jobs = await ctx.client().submitBatch(specs, { view: json ? JobView.FULL : JobView.BASIC });
  if (json) writeMessagesJson(ctx.io.stdout, JobSchema, jobs);
  else for (const job of jobs) ctx.io.stdout.write(`${job.id}\n`);
}

function checkFlags(flags: SubmitFlags, command: readonly string[], json: boolean): void {
  if (flags.file !== undefined) {
    if (command.length > 0) throw new UsageError('--file reads the commands from the file: drop the command after --, or drop --file');
    if (flags.wait) throw new UsageError('--wait follows one job and cannot be used with --file');
    if (flags.idempotencyKey !== undefined) throw new UsageError('--idempotency-key would give every line the same key: put "idempotencyKey" on each line instead');
    return;
  }
  if (command.length === 0) throw new UsageError('give the command to run after -- (e.g. longshore submit -- sh -c "echo hi")');
  if (flags.wait && json) throw new UsageError("--json cannot be used with --wait: the job's own output goes to stdout");
}

async function runSubmit(ctx: CliContext, command: string[], flags: SubmitFlags, cmd: Command): Promise<void> {
  const json = ctx.json(cmd);
  checkFlags(flags, command, json);
  const spec = specFromFlags(flags, command);
  if (flags.file !== undefined) return submitFile(ctx, flags.file, spec, json);
  if (spec.executor === Executor.AUTO && spec.allowedExecutors.length === 0) {
    throw new UsageError('--executor auto needs the chain to choose from (e.g. --executor auto --allow ecs,docker,subprocess)');
  }
  const job = await ctx.client().submit(spec);
  if (!flags.wait) {
    if (json) writeMessagesJson(ctx.io.stdout, JobSchema, job);
    else ctx.io.stdout.write(`${job.id}\n`);
    return;
  }
  ctx.io.stderr.write(`job ${job.id}\n`);
  ctx.setExitCode(await followJob(ctx, job.id));
}

/** Registers `longshore submit [options] -- CMD [ARG...]`. */
export function registerSubmit(program: Command, ctx: CliContext): void {
  program
    .command('submit')
    .summary('submit a job (or a file of jobs) and print its id')
    .description('Submit a job to run CMD ARG... on an agent of a pool, and print its id.\nEverything after -- is the job\'s argv, passed as is (no shell unless you name one).')
    .usage('[options] -- CMD [ARG...]')
    .argument('[command...]', 'the program and its arguments, after --')
    .option('--pool <pool>', 'pool to run in (default: the default pool)', nameArg)
    .option('--weight <w>', "share of a standard agent, e.g. 0.25 (default: the pool's)", milliArg)
    .addOption(new Option('--executor <name>', 'how to run it (default: the agent\'s)').choices(EXECUTOR_WORDS))
    .option('--allow <list>', 'for --executor auto: the executors allowed, in order, e.g. docker,subprocess', allowArg)
    .option('--image <image>', 'container image, for docker and ecs')
    .option('--env <K=V>', 'environment variable for the job; repeatable', envArg)
    .option('--label <K=V>', 'label to find the job by; repeatable', labelArg)
    .option('--lane <lane>', 'job kind agents may cap by count, e.g. ingestion', nameArg)
    .option('--workdir <dir>', "working directory on the agent (default: the agent's job directory)")
    .option('--timeout <duration>', "wall-clock limit, e.g. 30s, 5m, 2h (default: the agent's)", durationArg)
    .option('--memory <size>', 'memory limit, e.g. 512Mi, 2Gi', bytesArg)
    .option('--max-attempts <n>', 'attempts allowed in total, whatever the retry budgets say', intArg(1, LIMITS.maxAttempts, '3'))
    .option('--retries <list>', 'retries per failure class, e.g. exit=2,timeout=1 (default: start_failed=2,lost=3, others 0)', retriesArg)
    .option('--backoff <duration>', 'first wait before a retry, doubling each time (default 1s)', durationArg)
    .addOption(new Option('--pull <policy>', 'docker: when to pull the image (default if_not_present)').choices(['always', 'if_not_present', 'never']))
    .option('--user <user>', "docker: user in the container, NAME, UID or UID:GID (default: the image's)")
    .option('--cpus <n>', 'CPU limit, e.g. 1.5 (a CFS quota; default: none, or the weight\'s share of the pool\'s standard agent)', cpusArg)
    .option('--network <name>', 'docker: network, e.g. bridge (default none; needs the agent\'s LONGSHORE_DOCKER_ALLOW)')
    .option('--docker-label <K=V>', 'docker: container label (not longshore.*); repeatable', dockerLabelArg)
    .option('--read-only', 'docker: read-only root filesystem (with a writable tmpfs /tmp)')
    .option('--cap-add <cap>', 'docker: add a capability, e.g. SYS_PTRACE (if the agent allows it); repeatable', repeatable(capabilityArg))
    .option('--mount <src:dst[:ro]>', 'docker: mount a host path, e.g. /data/in:/in:ro (if the agent allows it); repeatable', repeatable(mountArg))
    .option('--device <path>', 'docker: give the container a host device, e.g. /dev/fuse (if the agent allows it); repeatable', repeatable(deviceArg))
    .option('--privileged', 'docker: privileged container (if the agent allows it)')
    .addOption(new Option('--pid <mode>', "docker: share the host's PID namespace (if the agent allows it)").choices(['host']))
    .addOption(new Option('--ipc <mode>', "docker: share the host's IPC namespace (if the agent allows it)").choices(['host']))
    .option('--build-step <cmd>', 'docker: build the job\'s image from --image by running CMD with sh -c; repeatable, in order', repeatable(buildStepArg))
    .option('--build-arg <K=V>', 'docker: variable the build steps see; repeatable', buildArgArg)
    .option('--ecs-task-definition <ref>', 'ecs: task definition, a family (its latest ACTIVE revision), family:revision or ARN (default: the agent\'s)')
    .option('--ecs-container <name>', 'ecs: the task definition\'s container that runs the job (default: the agent\'s)')
    .option('--ecs-overrides <json>', 'ecs: RunTask arguments deep-merged over the agent\'s, e.g. \'{"overrides":{"ephemeralStorage":{"sizeInGiB":40}}}\' (only keys the agent allows)')
    .option('--priority <n>', 'higher runs first; may be negative', intArg(-LIMITS.priority, LIMITS.priority, '10 or -5'))
    .option('--idempotency-key <key>', 'submitting again with the same key returns the first job')
    .option('--wait', "stream the job's output and exit with its exit code, like docker run")
    .option('--file <file>', 'submit every job spec in a JSONL file in one batch (- = stdin)')
    .option('--json', 'print the job as protobuf JSON instead of its id')
    .showHelpAfterError('(see "longshore submit --help"; the job\'s own command goes after --, e.g. longshore submit -- ls -la)')
    .addHelpText('after', `${FILE_HELP}\n${HELP_EXAMPLES}`)
    .action((command: string[], flags: SubmitFlags, cmd: Command) => runSubmit(ctx, command, flags, cmd));
}
