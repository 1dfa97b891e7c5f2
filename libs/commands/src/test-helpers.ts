/**
 * Test doubles for the CLI's unit tests (not part of the front door): a fake client that records
 * every RPC and answers from fields the test sets, and an in-memory {@link CliIO}.
 */
import { EventEmitter } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  CancelJobResponseSchema,
  CreateTokenResponseSchema,
  ListTokensResponseSchema,
  RevokeTokenResponseSchema,
  WhoAmIResponseSchema,
  type Token,
  CreatePoolResponseSchema,
  DeletePoolResponseSchema,
  GetJobResponseSchema,
  GetPoolResponseSchema,
  JobSchema,
  JobSpecSchema,
  JobState,
  ListAgentsResponseSchema,
  ListJobsResponseSchema,
  ListPoolsResponseSchema,
  PoolSchema,
  SetDefaultPoolResponseSchema,
  StreamJobLogsResponseSchema,
  SubmitJobResponseSchema,
  SubmitJobsResponseSchema,
  UpdatePoolResponseSchema,
  WatchJobResponseSchema,
  type Agent,
  type Job,
  type JobSpecInit,
  type JobView,
  type LogLine,
  type LongshoreError,
  type Pool,
} from '@longshore/client';
import { NotFoundError } from '@longshore/domain';
import { buildProgram } from './program.js';
import type { CliClient, CliIO, SignalSource } from './context.js';

/** One recorded RPC. */
export interface RecordedCall {
  method: string;
  request: unknown;
}

const notFaked = (method: string) => (): never => {
  throw new Error(`FakeClient: ${method} is not faked`);
};

/** A job message for tests: a succeeded job unless `init` says otherwise. */
export function makeJob(init: MessageInitShape<typeof JobSchema>): Job {
  return create(JobSchema, { state: JobState.SUCCEEDED, ...init });
}

/**
 * A {@link CliClient} without a server. Set `jobs`, `logLines`, `listedJobs`, `pools`, `agents`
 * to shape the answers; `failWith` makes every RPC reject; `holdLogs` keeps the log stream open
 * until released (or aborted), for Ctrl-C tests. Every RPC lands in `calls`.
 */
export class FakeClient implements CliClient {
  readonly calls: RecordedCall[] = [];
  readonly jobs = new Map<string, Job>();
  logLines: MessageInitShape<typeof StreamJobLogsResponseSchema>['lines'] = [];
  listedJobs: Job[] = [];
  nextPageToken = '';
  pools: Pool[] = [];
  agents: Agent[] = [];
  tokenList: Token[] = [];
  failWith: LongshoreError | undefined;
  holdLogs: Promise<void> | undefined;
  closed = false;
  private nextId = 1;

  private record(method: string, request: unknown): void {
    this.calls.push({ method, request });
    if (this.failWith) throw this.failWith;
  }

  private newJob(spec: JobSpecInit | undefined): Job {
    const id = `job-${this.nextId++}`;
    const job = create(JobSchema, { id, state: JobState.QUEUED, spec: create(JobSpecSchema, spec ?? {}) });
    this.jobs.set(id, job);
    return job;
  }

  private jobOrThrow(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new NotFoundError(`job "${id}" does not exist`);
    return job;
  }

  private async *logStream(signal: AbortSignal | undefined) {
    yield create(StreamJobLogsResponseSchema, { lines: this.logLines });
    if (this.holdLogs) {
      await new Promise<void>((resolve, reject) => {
        void this.holdLogs?.then(resolve);
        signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      });
    }
  }

  readonly dispatcher: CliClient['dispatcher'] = {
    submitJob: async (req) => {
      this.record('submitJob', req);
      return create(SubmitJobResponseSchema, { job: this.newJob(req.spec) });
    },
    submitJobs: async (req) => {
      this.record('submitJobs', req);
      return create(SubmitJobsResponseSchema, { jobs: (req.specs ?? []).map((s) => this.newJob(s)) });
    },
    getJob: async (req) => {
      this.record('getJob', req);
      return create(GetJobResponseSchema, { job: this.jobOrThrow(req.id ?? '') });
    },
    listJobs: async (req) => {
      this.record('listJobs', req);
      return create(ListJobsResponseSchema, { jobs: this.listedJobs, nextPageToken: this.nextPageToken });
    },
    watchJob: (req) => {
      this.record('watchJob', req);
      const job = this.jobOrThrow(req.id ?? '');
      return (async function* () {
        yield create(WatchJobResponseSchema, { job });
      })();
    },
    streamJobLogs: (req, opts) => {
      this.record('streamJobLogs', req);
      return this.logStream(opts?.signal);
    },
    cancelJob: async (req) => {
      this.record('cancelJob', req);
      const job = this.jobOrThrow(req.id ?? '');
      return create(CancelJobResponseSchema, { job: { ...job, state: JobState.CANCELLED } });
    },
    retryJob: notFaked('retryJob'),
  };

  readonly registry: CliClient['registry'] = {
    createPool: async (req) => {
      this.record('createPool', req);
      return create(CreatePoolResponseSchema, { pool: { id: req.id, isDefault: req.makeDefault, defaultWeightMilli: req.defaultWeightMilli || 250, maxWeightMilli: req.maxWeightMilli || 1000 } });
    },
    updatePool: async (req) => {
      this.record('updatePool', req);
      return create(UpdatePoolResponseSchema, { pool: { id: req.id } });
    },
    getPool: async (req) => {
      this.record('getPool', req);
      const pool = this.pools.find((p) => p.id === req.id);
      if (!pool) throw new NotFoundError(`pool "${req.id}" does not exist`);
      return create(GetPoolResponseSchema, { pool });
    },
    listPools: async (req) => {
      this.record('listPools', req);
      return create(ListPoolsResponseSchema, { pools: this.pools });
    },
    deletePool: async (req) => {
      this.record('deletePool', req);
      return create(DeletePoolResponseSchema, { cancelledJobs: req.force ? 3n : 0n });
    },
    setDefaultPool: async (req) => {
      this.record('setDefaultPool', req);
      return create(SetDefaultPoolResponseSchema, { pool: create(PoolSchema, { id: req.id, isDefault: true }) });
    },
    listAgents: async (req) => {
      this.record('listAgents', req);
      return create(ListAgentsResponseSchema, { agents: this.agents });
    },
    registerAgent: notFaked('registerAgent'),
    agentHeartbeat: notFaked('agentHeartbeat'),
    deregisterAgent: notFaked('deregisterAgent'),
    drainAgent: notFaked('drainAgent'),
  };

  readonly tokens: CliClient['tokens'] = {
    createToken: async (req) => {
      this.record('createToken', req);
      const id = `tok${this.nextId++}`;
      return create(CreateTokenResponseSchema, { token: { id, name: req.name, role: req.role, pools: req.pools }, secret: `lst_${id}_secret` });
    },
    listTokens: async (req) => {
      this.record('listTokens', req);
      return create(ListTokensResponseSchema, { tokens: this.tokenList });
    },
    revokeToken: async (req) => {
      this.record('revokeToken', req);
      const token = this.tokenList.find((t) => t.id === req.id);
      if (!token) throw new NotFoundError(`token "${req.id}" does not exist`);
      return create(RevokeTokenResponseSchema, { token });
    },
    whoAmI: async (req) => {
      this.record('whoAmI', req);
      return create(WhoAmIResponseSchema, { token: this.tokenList[0] });
    },
  };

  async submit(spec: JobSpecInit): Promise<Job> {
    return (await this.dispatcher.submitJob({ spec })).job!;
  }

  async submitBatch(specs: JobSpecInit[], opts?: { view?: JobView }): Promise<Job[]> {
    return (await this.dispatcher.submitJobs({ specs, ...(opts?.view !== undefined ? { view: opts.view } : {}) })).jobs;
  }

  async getJob(id: string, opts?: { signal?: AbortSignal }): Promise<Job> {
    return (await this.dispatcher.getJob({ id }, opts)).job!;
  }

  async *logs(id: string, opts: { follow?: boolean; signal?: AbortSignal } = {}): AsyncIterable<LogLine> {
    for await (const msg of this.dispatcher.streamJobLogs({ id, follow: opts.follow ?? false }, { signal: opts.signal })) yield* msg.lines;
  }

  async waitForJob(id: string): Promise<Job> {
    return this.getJob(id);
  }

  close(): void {
    this.closed = true;
  }

  /** The RPC method names called, in order. */
  methods(): string[] {
    return this.calls.map((c) => c.method);
  }
}

/** A writable that keeps what was written. */
class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** What one CLI run printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@link runWith}. */
export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  stdin?: string;
  signals?: SignalSource;
  now?: number;
}

/**
 * Runs the CLI on `argv` against `client`, capturing stdout and stderr. `io.env` is empty unless
 * given, so the machine's LONGSHORE_* variables never leak into a test.
 */
export async function runWith(client: FakeClient, argv: readonly string[], opts: RunOptions = {}): Promise<CliRun> {
  const stdout = new Sink();
  const stderr = new Sink();
  const io: CliIO = { stdout, stderr, env: opts.env ?? {}, stdin: opts.stdin === undefined ? undefined : Readable.from([opts.stdin]) };
  const now = opts.now;
  const code = await buildProgram(io, {
    connect: () => client,
    signals: opts.signals ?? new EventEmitter(),
    now: now === undefined ? Date.now : () => now,
  }).run(argv);
  return { code, stdout: stdout.text, stderr: stderr.text };
}
