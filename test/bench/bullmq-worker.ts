/**
 * The baseline's worker process: a plain BullMQ Worker with count-based concurrency, no
 * notion of weight. A job whose data has a `command` runs it as a subprocess; one without
 * does nothing. Each job returns when and where it ran, for the benchmark to read back.
 *
 * Started by bullmq-baseline.ts as `node --import tsx bullmq-worker.ts`; configured by
 * BENCH_REDIS_URL, BENCH_QUEUE, BENCH_PREFIX, BENCH_CONCURRENCY, BENCH_WORKER_ID.
 * Logs `{"msg":"ready"}` once connected; closes its Worker on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';

/** What the processor returns, stored by BullMQ as the job's return value. */
export interface BaselineResult {
  worker: string;
  startedAt: number;
  finishedAt: number;
}

const config = z
  .object({
    BENCH_REDIS_URL: z.string().regex(/^redis:\/\/([^@/]*@)?127\.0\.0\.1:\d+$/, 'must be a loopback redis:// URL'),
    BENCH_QUEUE: z.string().min(1),
    BENCH_PREFIX: z.string().min(1),
    BENCH_CONCURRENCY: z.coerce.number().int().positive(),
    BENCH_WORKER_ID: z.string().min(1),
  })
  .parse(process.env);

async function run(command: readonly string[]): Promise<void> {
  const [program, ...args] = command;
  if (program === undefined) throw new Error('empty command');
  const child = spawn(program, args, { stdio: 'ignore' });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code !== 0) throw new Error(`${command.join(' ')} ended with ${code ?? signal}`);
}

async function processJob(job: Job<{ command?: string[] }>): Promise<BaselineResult> {
  const startedAt = Date.now();
  if (job.data.command) await run(job.data.command);
  return { worker: config.BENCH_WORKER_ID, startedAt, finishedAt: Date.now() };
}

// BullMQ Workers need maxRetriesPerRequest: null (blocking commands).
const connection = new Redis(config.BENCH_REDIS_URL, { maxRetriesPerRequest: null });
const worker = new Worker(config.BENCH_QUEUE, processJob, {
  connection,
  prefix: config.BENCH_PREFIX,
  concurrency: config.BENCH_CONCURRENCY,
});
worker.on('error', (err) => console.error(JSON.stringify({ msg: 'worker error', err: err.message })));
worker.on('failed', (job, err) => console.error(JSON.stringify({ msg: 'job failed', job: job?.id, err: err.message })));

process.once('SIGTERM', () => {
  void worker
    .close()
    .then(() => connection.quit())
    .finally(() => process.exit(0));
});

await worker.waitUntilReady();
console.log(JSON.stringify({ msg: 'ready', worker: config.BENCH_WORKER_ID }));
