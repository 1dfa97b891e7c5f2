import type { MessageInitShape } from '@bufbuild/protobuf';
import { loadClientSecurity } from '@longshore/config';
import {
  DispatcherService,
  PoolRegistryService,
  TokenService,
  type Job,
  type JobSpecSchema,
  type JobView,
  type LogLine,
} from '@longshore/proto';
import { Code, LongshoreError } from '@longshore/domain';
import { channelCredentials, checkPlaintext, createRpcClient, type CallOptions, type RpcClient, type RpcClientOptions } from '@longshore/rpc';
import { DEFAULT_DISPATCHER, DEFAULT_REGISTRY } from './defaults.js';
import { isFinished } from './exit-code.js';
import { inClientSpan } from './tracing.js';

/**
 * Reconnect policy for streams: only UNAVAILABLE (the server went away) is retried, with backoff
 * from 200 ms to 2 s, for at most `forMs` since the stream last made progress.
 */
function reconnecting(forMs = 60_000, signal?: AbortSignal) {
  let since = Date.now();
  let delay = 200;
  return {
    reset() {
      since = Date.now();
      delay = 200;
    },
    async shouldRetry(err: unknown): Promise<boolean> {
      if (!(err instanceof LongshoreError) || err.code !== Code.Unavailable || signal?.aborted) return false;
      if (Date.now() - since + delay > forMs) return false;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2000);
      return !signal?.aborted;
    },
  };
}


export interface ClientOptions {
  /** host:port of the dispatcher; default `LONGSHORE_DISPATCHER`, else 127.0.0.1:7400. */
  dispatcher?: string;
  /** host:port of the pool registry; default `LONGSHORE_REGISTRY`, else 127.0.0.1:7401. */
  registry?: string;
  /**
   * Bearer token; default `LONGSHORE_TOKEN`, else the one `longshore up` wrote to
   * `$LONGSHORE_HOME/credentials`. TLS comes from `LONGSHORE_TLS_CA` (and
   * `LONGSHORE_TLS_CLIENT_CERT`/`_KEY` for mTLS); plaintext is refused off loopback unless
   * `LONGSHORE_INSECURE_PLAINTEXT=1`.
   */
  token?: string;
  /** Extra grpc-js channel options (advanced; e.g. `grpc.use_local_subchannel_pool: 1` for connections of its own). */
  channelOptions?: RpcClientOptions['channelOptions'];
  env?: NodeJS.ProcessEnv;
}

/** A job spec as a plain object (every field optional but `command`). */
export type JobSpecInit = MessageInitShape<typeof JobSpecSchema>;

/**
 * The typed client for Longshore's API. `dispatcher` and `registry` expose every RPC; the
 * methods here are the conveniences most programs want.
 *
 * ```ts
 * const ls = LongshoreClient.connect();
 * try {
 *   const job = await ls.submit({ command: ['sh', '-c', 'echo hi'] });
 *   for await (const line of ls.logs(job.id, { follow: true })) console.log(line.text);
 *   console.log(exitCodeOf(await ls.getJob(job.id)));
 * } finally { ls.close(); }
 * ```
 */
export class LongshoreClient {
  private constructor(
    private readonly d: RpcClient<(typeof DispatcherService)['method']>,
    private readonly r: RpcClient<(typeof PoolRegistryService)['method']>,
    private readonly t: RpcClient<(typeof TokenService)['method']>,
  ) {}

  static connect(opts: ClientOptions = {}): LongshoreClient {
    const env = opts.env ?? process.env;
    const dispatcher = opts.dispatcher ?? env['LONGSHORE_DISPATCHER'] ?? DEFAULT_DISPATCHER;
    const registry = opts.registry ?? env['LONGSHORE_REGISTRY'] ?? DEFAULT_REGISTRY;
    const security = loadClientSecurity(env);
    const token = opts.token ?? security.token;
    for (const address of [dispatcher, registry]) checkPlaintext(address, security.tls !== undefined, security.insecurePlaintext, 'connect');
    const rpcOpts: RpcClientOptions = { ...(token ? { token } : {}), credentials: channelCredentials(security.tls), ...(opts.channelOptions ? { channelOptions: opts.channelOptions } : {}) };
    return new LongshoreClient(
      createRpcClient(DispatcherService, dispatcher, rpcOpts),
      createRpcClient(PoolRegistryService, registry, rpcOpts),
      createRpcClient(TokenService, registry, rpcOpts),
    );
  }

  /** Every DispatcherService RPC. */
  get dispatcher() {
    return this.d.rpc;
  }
  /** Every PoolRegistryService RPC. */
  get registry() {
    return this.r.rpc;
  }
  /** Every TokenService RPC (served by the registry). */
  get tokens() {
    return this.t.rpc;
  }
  get dispatcherAddress(): string {
    return this.d.address;
  }
  get registryAddress(): string {
    return this.r.address;
  }

  /**
   * Submits one job. The call runs in a CLIENT span (`longshore.v1.DispatcherService/SubmitJob`),
   * a child of the caller's active span if it has one: the job's trace starts here.
   */
  async submit(spec: JobSpecInit, opts?: CallOptions): Promise<Job> {
    const res = await inClientSpan('SubmitJob', { 'longshore.jobs': 1 }, () => this.d.rpc.submitJob({ spec }, opts));
    return res.job!;
  }

  /**
   * Submits a batch (at most 1000) in one call and one CLIENT span (`…/SubmitJobs`); `view`
   * BASIC returns only what the batch's ids and states need.
   */
  async submitBatch(specs: JobSpecInit[], opts?: CallOptions & { view?: JobView }): Promise<Job[]> {
    const res = await inClientSpan('SubmitJobs', { 'longshore.jobs': specs.length }, () => this.d.rpc.submitJobs({ specs, ...(opts?.view !== undefined ? { view: opts.view } : {}) }, opts));
    return res.jobs;
  }

  async getJob(id: string, opts?: CallOptions): Promise<Job> {
    return (await this.d.rpc.getJob({ id }, opts)).job!;
  }

  /**
   * The job's log lines; with `follow`, keeps going until the job has finished. If the dispatcher
   * goes away meanwhile (restart, rollout), it reconnects with backoff and resumes after the
   * last line it gave, for up to `reconnectForMs` (default 60 s).
   */
  async *logs(id: string, opts: { follow?: boolean; after?: string; signal?: AbortSignal; reconnectForMs?: number } = {}): AsyncIterable<LogLine> {
    let after = opts.after ?? '';
    const retry = reconnecting(opts.reconnectForMs, opts.signal);
    for (;;) {
      try {
        const call = this.d.rpc.streamJobLogs({ id, follow: opts.follow ?? false, after }, { signal: opts.signal });
        for await (const msg of call) {
          retry.reset();
          for (const line of msg.lines) {
            after = line.cursor;
            yield line;
          }
        }
        return;
      } catch (err) {
        if (!(await retry.shouldRetry(err))) throw err;
      }
    }
  }

  /** Resolves with the job once it has reached a final state (reconnecting as {@link logs} does). */
  async waitForJob(id: string, opts: { signal?: AbortSignal; reconnectForMs?: number } = {}): Promise<Job> {
    const retry = reconnecting(opts.reconnectForMs, opts.signal);
    for (;;) {
      try {
        let last: Job | undefined;
        for await (const msg of this.d.rpc.watchJob({ id }, { signal: opts.signal })) {
          retry.reset();
          last = msg.job;
          if (last && isFinished(last)) return last;
        }
        return last && isFinished(last) ? last : await this.getJob(id);
      } catch (err) {
        if (!(await retry.shouldRetry(err))) throw err;
      }
    }
  }

  close(): void {
    this.d.close();
    this.r.close();
    this.t.close();
  }
}
