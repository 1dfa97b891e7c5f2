import { createRequire } from 'node:module';
import type { DescMethod } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import {
  logVerbosity,
  type Metadata,
  setLogger,
  setLogVerbosity,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type * as HealthCheck from 'grpc-health-check';
import { ANONYMOUS_ADMIN, CONNECTION_LIMITS, LIMITS, type Principal, UnavailableError } from '@longshore/domain';
import { silentLogger, type Logger } from '@longshore/telemetry';
import { refuseMalformed } from './malformed-request.js';
import { traceServerCall } from './tracing.js';
import { toGrpcServiceDefinition } from './service-definition.js';
import { toWireStatus } from './status.js';
import type { CallContext, ServiceImpl } from './types.js';

/** For a status that is no failure (a stream cut short by shutdown): toWireStatus logs nothing to it. */
const QUIET = silentLogger();

/** grpc-js logs to the console by default: send its lines to the service's JSON log instead. */
function routeGrpcLogs(logger: Logger): void {
  const grpcLogger = logger.child({ component: 'grpc' });
  setLogger({
    error: (...args: unknown[]) => grpcLogger.warn(args.map(String).join(' ')),
    info: (...args: unknown[]) => grpcLogger.debug(args.map(String).join(' ')),
    debug: (...args: unknown[]) => grpcLogger.debug(args.map(String).join(' ')),
  });
  setLogVerbosity(logVerbosity.ERROR);
}

/** A bind failure in words: the address, why, and what to do. */
function bindError(address: string, err: Error): Error {
  const inUse = /EADDRINUSE/.test(err.message);
  const why = inUse ? 'the address is already in use (is another Longshore service running there?)' : err.message;
  return new Error(`cannot listen on ${address}: ${why}; choose another address (LONGSHORE_DISPATCHER / LONGSHORE_REGISTRY)`, { cause: err });
}

/**
 * Every server's channel options, in one place (the README's "Limits" table lists them). A
 * larger message is refused with RESOURCE_EXHAUSTED before it is decoded. grpc-js servers do
 * not police clients' pings (no `min_ping_interval`/ping strikes, unlike C-core); Node's HTTP/2
 * layer drops ping and settings floods itself, and the server's own keepalive pings drop dead peers.
 */
export const SERVER_CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': LIMITS.requestBytes,
  'grpc.max_concurrent_streams': CONNECTION_LIMITS.concurrentStreams,
  'grpc.max_connection_idle_ms': CONNECTION_LIMITS.idleConnectionMs,
  'grpc.keepalive_time_ms': CONNECTION_LIMITS.keepaliveMs,
  'grpc.keepalive_timeout_ms': CONNECTION_LIMITS.keepaliveTimeoutMs,
} as const;

type AnyHandler = (req: unknown, ctx: CallContext) => Promise<unknown> | AsyncIterable<unknown>;

/** The call a {@link HandlerWrapper} wraps. */
export interface WrappedCall {
  /** `longshore.v1.DispatcherService/SubmitJob` */
  readonly path: string;
  /** `longshore.v1.DispatcherService` */
  readonly service: string;
  /** `SubmitJob` */
  readonly method: string;
  readonly kind: 'unary' | 'server_streaming';
  /** The call's metadata, as the client sent it. */
  readonly metadata: Metadata;
}

/**
 * Runs around every call (but health): `next` runs the rest (the token check, then the handler;
 * for a stream, every message) and settles with its result or error. Wrappers nest in the order
 * given, the first outermost; a wrapper may throw to refuse the call.
 */
export type HandlerWrapper = <T>(call: WrappedCall, next: () => Promise<T>) => Promise<T>;

/**
 * Decides who a call is from its `authorization` metadata and its method path
 * (`longshore.v1.DispatcherService/SubmitJob`); throws UNAUTHENTICATED / PERMISSION_DENIED.
 */
export type Authorize = (authorization: string | undefined, method: string) => Promise<Principal>;

/** How an {@link RpcServer} secures its calls. */
export interface RpcServerOptions {
  /** Transport security; default plaintext (see `serverCredentials` for TLS and mTLS). */
  credentials?: ServerCredentials;
  /** Checks every call but health; default: every call is `ANONYMOUS_ADMIN` (auth off). */
  authorize?: Authorize;
  /**
   * Wrappers around every call, outermost first, after the built-in trace one (which continues
   * the caller's W3C trace context and runs the call in a SERVER span).
   */
  wrappers?: HandlerWrapper[];
}

/**
 * grpc-health-check parses its .proto with protobufjs as it loads: required when a server is
 * made, so clients of this lib (the CLI) do not pay for it.
 */
function newHealth(): HealthCheck.HealthImplementation {
  const { HealthImplementation } = createRequire(import.meta.url)('grpc-health-check') as typeof HealthCheck;
  return new HealthImplementation({ '': 'NOT_SERVING' });
}

/**
 * A gRPC server for protobuf-es services, with `grpc.health.v1.Health` built in and one error
 * mapping for every handler. Lifecycle: `listen` once, `close` (idempotent) drains then forces.
 */
export class RpcServer {
  private readonly server = new Server(SERVER_CHANNEL_OPTIONS);
  private readonly health = newHealth();
  private readonly shutdown = new AbortController();
  private readonly serviceNames: string[] = [];
  private closing?: Promise<void>;

  private readonly credentials: ServerCredentials;
  private readonly authorize: Authorize;
  private readonly wrappers: HandlerWrapper[];

  constructor(
    private readonly logger: Logger,
    opts: RpcServerOptions = {},
  ) {
    this.credentials = opts.credentials ?? ServerCredentials.createInsecure();
    this.authorize = opts.authorize ?? (() => Promise.resolve(ANONYMOUS_ADMIN));
    this.wrappers = [traceServerCall, ...(opts.wrappers ?? [])];
    this.health.addToServer(this.server);
    routeGrpcLogs(logger);
  }

  /** Adds a service; call before {@link listen}. */
  register<S extends GenServiceMethods>(svc: GenService<S>, impl: ServiceImpl<S>): this {
    const handlers: UntypedServiceImplementation = {};
    for (const m of svc.methods) {
      const fn = (impl as Record<string, AnyHandler>)[m.localName];
      if (!fn) throw new Error(`${svc.typeName}.${m.name} has no implementation`);
      const path = `${svc.typeName}/${m.name}`;
      const guarded = refuseMalformed(m, fn.bind(impl));
      handlers[m.localName] = m.methodKind === 'unary' ? this.unary(m, path, guarded) : this.serverStream(m, path, guarded);
    }
    this.server.addService(toGrpcServiceDefinition(svc), handlers);
    this.serviceNames.push(svc.typeName);
    return this;
  }

  /** Binds `host:port` (port 0 = any free one) and returns the address actually bound. */
  async listen(address: string): Promise<string> {
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, this.credentials, (err, p) => (err ? reject(bindError(address, err)) : resolve(p))),
    );
    this.health.setStatus('', 'SERVING');
    for (const name of this.serviceNames) this.health.setStatus(name, 'SERVING');
    const host = address.slice(0, address.lastIndexOf(':'));
    return `${host}:${port}`;
  }

  /** Stops accepting calls, lets running ones finish for `graceMs`, then cancels the rest. */
  close(graceMs = 5000): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.health.setStatus('', 'NOT_SERVING');
      const force = setTimeout(() => {
        this.shutdown.abort(new Error('server shutting down'));
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      force.unref();
      // Streams (follow, watch) never end on their own: end them at once so the drain can finish.
      this.shutdown.abort(new Error('server shutting down'));
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    return this.closing;
  }

  /** The call's context, once its token has been checked (throws UNAUTHENTICATED / PERMISSION_DENIED). */
  private async context(call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>, path: string): Promise<CallContext> {
    // Listen for cancellation before the token check awaits, so a cancel meanwhile is not missed.
    const controller = new AbortController();
    const abort = () => controller.abort(new Error('call cancelled'));
    call.on('cancelled', abort);
    const auth = call.metadata.get('authorization')[0];
    const principal = await this.authorize(typeof auth === 'string' ? auth : undefined, path);
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : Number(deadline);
    const signals = [controller.signal, this.shutdown.signal];
    if (Number.isFinite(deadlineMs) && deadlineMs > 0) signals.push(AbortSignal.timeout(Math.max(0, deadlineMs - Date.now())));
    return { signal: AbortSignal.any(signals), metadata: call.metadata, peer: call.getPeer(), principal };
  }

  /** Runs `body` inside every wrapper, the first outermost. */
  private wrapped<T>(m: DescMethod, path: string, metadata: Metadata, body: () => Promise<T>): Promise<T> {
    const call: WrappedCall = { path, service: m.parent.typeName, method: m.name, kind: m.methodKind === 'unary' ? 'unary' : 'server_streaming', metadata };
    const run = this.wrappers.reduceRight<() => Promise<T>>((next, w) => () => w(call, next), body);
    return run();
  }

  private unary(m: DescMethod, path: string, fn: AnyHandler) {
    return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      this.wrapped(m, path, call.metadata, () => this.context(call, path).then((ctx) => fn(call.request, ctx) as Promise<unknown>)).then(
        (res) => callback(null, res),
        (err: unknown) => callback(toWireStatus(err, this.logger, m.name)),
      );
    };
  }

  private serverStream(m: DescMethod, path: string, fn: AnyHandler) {
    return (call: ServerWritableStream<unknown, unknown>) => {
      void (async () => {
        let ctx: CallContext | undefined;
        // A follow or watch stream cut short by shutdown has not ended: an OK status would tell
        // the client it had seen everything. UNAVAILABLE makes it reconnect and resume; it is
        // what shutting down means, not a failed request, so it is logged at debug.
        let cut: UnavailableError | undefined;
        try {
          await this.wrapped(m, path, call.metadata, async () => {
            ctx = await this.context(call, path);
            for await (const msg of fn(call.request, ctx) as AsyncIterable<unknown>) {
              if (ctx.signal.aborted) break;
              if (!call.write(msg)) await new Promise((r) => call.once('drain', r));
            }
            if (this.shutdown.signal.aborted) throw (cut = new UnavailableError('the server is shutting down: reconnect and resume'));
          });
          call.end();
        } catch (err) {
          if (ctx?.signal.aborted && !this.shutdown.signal.aborted) return; // the client went away
          if (err === cut) this.logger.debug({ method: m.name }, 'stream cut short by shutdown: the client is told to reconnect');
          call.emit('error', toWireStatus(err, err === cut ? QUIET : this.logger, m.name));
        }
      })();
    };
  }
}
