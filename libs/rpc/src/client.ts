import type { DescMethod } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  status as GrpcStatus,
  type CallOptions as GrpcCallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type Interceptor,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { toGrpcServiceDefinition } from './service-definition.js';
import { fromServiceError } from './status.js';
import { propagateTraceContext } from './tracing.js';
import type { CallOptions, ServiceClient } from './types.js';

/** A typed client plus the channel to close. */
export interface RpcClient<S extends GenServiceMethods> {
  readonly rpc: ServiceClient<S>;
  readonly address: string;
  close(): void;
}

/** Channel options: keep reconnect backoff short so clients recover quickly from restarts. */
const CHANNEL_OPTIONS = {
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2000,
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
};

/** How a client proves who it is and checks whom it talks to. */
export interface RpcClientOptions {
  /** Bearer token sent with every call (`authorization: Bearer …`); none when absent. */
  token?: string;
  /** Transport security; default plaintext (see `channelCredentials` for TLS and mTLS). */
  credentials?: ChannelCredentials;
  /** Extra grpc-js channel options, e.g. `grpc.use_local_subchannel_pool` for a connection of its own. */
  channelOptions?: ChannelOptions;
  /**
   * grpc-js client interceptors, outermost first, after the built-in one that writes the
   * caller's W3C trace context (`traceparent`) into every call's metadata.
   */
  interceptors?: Interceptor[];
}

function grpcOptions(opts?: CallOptions): GrpcCallOptions {
  return opts?.timeoutMs ? { deadline: Date.now() + opts.timeoutMs } : {};
}

/**
 * Opens a client for a protobuf-es service at `host:port`. Errors come back as
 * {@link LongshoreError}s with the server's code and message.
 */
export function createRpcClient<S extends GenServiceMethods>(svc: GenService<S>, address: string, opts: RpcClientOptions = {}): RpcClient<S> {
  const Ctor = makeGenericClientConstructor(toGrpcServiceDefinition(svc), svc.typeName);
  const client = new Ctor(address, opts.credentials ?? credentials.createInsecure(), {
    ...CHANNEL_OPTIONS,
    ...opts.channelOptions,
    interceptors: [propagateTraceContext, ...(opts.interceptors ?? [])],
  });
  const metadata = (): Metadata => {
    const md = new Metadata();
    if (opts.token) md.set('authorization', `Bearer ${opts.token}`);
    return md;
  };
  const rpc: Record<string, unknown> = {};
  for (const m of svc.methods) {
    rpc[m.localName] = m.methodKind === 'unary' ? unary(client, m, address, metadata) : serverStream(client, m, address, metadata);
  }
  return { rpc: rpc as ServiceClient<S>, address, close: () => client.close() };
}

type UnaryFn = (req: unknown, md: Metadata, opts: GrpcCallOptions, cb: (err: ServiceError | null, res: unknown) => void) => { cancel(): void };
type StreamFn = (req: unknown, md: Metadata, opts: GrpcCallOptions) => ClientReadableStream<unknown>;

function unary(client: Client, m: DescMethod, address: string, metadata: () => Metadata) {
  const fn = (client as unknown as Record<string, UnaryFn>)[m.localName]!.bind(client);
  return (req: unknown, opts?: CallOptions) =>
    new Promise((resolve, reject) => {
      if (opts?.signal?.aborted) return reject(fromServiceError({ code: GrpcStatus.CANCELLED, details: 'cancelled' }, address));
      const call = fn(req, metadata(), grpcOptions(opts), (err, res) => {
        opts?.signal?.removeEventListener('abort', onAbort);
        if (err) reject(fromServiceError(err, address));
        else resolve(res);
      });
      const onAbort = () => call.cancel();
      opts?.signal?.addEventListener('abort', onAbort, { once: true });
    });
}

function serverStream(client: Client, m: DescMethod, address: string, metadata: () => Metadata) {
  const fn = (client as unknown as Record<string, StreamFn>)[m.localName]!.bind(client);
  return (req: unknown, opts?: CallOptions): AsyncIterable<unknown> => ({
    async *[Symbol.asyncIterator]() {
      const call = fn(req, metadata(), grpcOptions(opts));
      const onAbort = () => call.cancel();
      opts?.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const msg of call) yield msg;
      } catch (err) {
        throw fromServiceError(err, address);
      } finally {
        opts?.signal?.removeEventListener('abort', onAbort);
        call.cancel();
      }
    },
  });
}
