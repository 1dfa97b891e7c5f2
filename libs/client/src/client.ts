import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  DispatcherService,
  PoolRegistryService,
  type Job,
  type JobSpecSchema,
  type LogLine,
} from '@longshore/proto';
import { createRpcClient, type CallOptions, type RpcClient } from '@longshore/rpc';
import { isFinished } from './exit-code.js';

/** Default addresses; the same variables configure the servers. */
export const DEFAULT_DISPATCHER = '127.0.0.1:7400';
export const DEFAULT_REGISTRY = '127.0.0.1:7401';

export interface ClientOptions {
  /** host:port of the dispatcher; default `LONGSHORE_DISPATCHER`, else 127.0.0.1:7400. */
  dispatcher?: string;
  /** host:port of the pool registry; default `LONGSHORE_REGISTRY`, else 127.0.0.1:7401. */
  registry?: string;
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
  ) {}

  static connect(opts: ClientOptions = {}): LongshoreClient {
    const env = opts.env ?? process.env;
    const dispatcher = opts.dispatcher ?? env['LONGSHORE_DISPATCHER'] ?? DEFAULT_DISPATCHER;
    const registry = opts.registry ?? env['LONGSHORE_REGISTRY'] ?? DEFAULT_REGISTRY;
    return new LongshoreClient(createRpcClient(DispatcherService, dispatcher), createRpcClient(PoolRegistryService, registry));
  }

  /** Every DispatcherService RPC. */
  get dispatcher() {
    return this.d.rpc;
  }
  /** Every PoolRegistryService RPC. */
  get registry() {
    return this.r.rpc;
  }
  get dispatcherAddress(): string {
    return this.d.address;
  }
  get registryAddress(): string {
    return this.r.address;
  }

  async submit(spec: JobSpecInit, opts?: CallOptions): Promise<Job> {
    return (await this.d.rpc.submitJob({ spec }, opts)).job!;
  }

  async getJob(id: string, opts?: CallOptions): Promise<Job> {
    return (await this.d.rpc.getJob({ id }, opts)).job!;
  }

  /** The job's log lines; with `follow`, keeps going until the job has finished. */
  async *logs(id: string, opts: { follow?: boolean; after?: string; signal?: AbortSignal } = {}): AsyncIterable<LogLine> {
    const call = this.d.rpc.streamJobLogs({ id, follow: opts.follow ?? false, after: opts.after ?? '' }, { signal: opts.signal });
    for await (const msg of call) yield* msg.lines;
  }

  /** Resolves with the job once it has reached a final state. */
  async waitForJob(id: string, opts: { signal?: AbortSignal } = {}): Promise<Job> {
    let last: Job | undefined;
    for await (const msg of this.d.rpc.watchJob({ id }, { signal: opts.signal })) {
      last = msg.job;
      if (last && isFinished(last)) return last;
    }
    return last && isFinished(last) ? last : this.getJob(id);
  }

  close(): void {
    this.d.close();
    this.r.close();
  }
}
