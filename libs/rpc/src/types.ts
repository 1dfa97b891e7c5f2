import type { MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type { Metadata } from '@grpc/grpc-js';
import type { Principal } from '@longshore/domain';

/** What every handler gets besides its request. */
export interface CallContext {
  /** Aborted when the client cancels, the deadline passes, or the server shuts down. */
  readonly signal: AbortSignal;
  readonly metadata: Metadata;
  readonly peer: string;
  /** Who is calling, proven by their token (or `ANONYMOUS_ADMIN` when auth is off). */
  readonly principal: Principal;
}

/** A service implementation: unary methods return a promise, server-streaming ones an async iterable. */
export type ServiceImpl<S extends GenServiceMethods> = {
  [K in keyof S]: S[K]['methodKind'] extends 'unary'
    ? (req: MessageShape<S[K]['input']>, ctx: CallContext) => Promise<MessageInitShape<S[K]['output']>>
    : S[K]['methodKind'] extends 'server_streaming'
      ? (req: MessageShape<S[K]['input']>, ctx: CallContext) => AsyncIterable<MessageInitShape<S[K]['output']>>
      : never;
};

/** Per-call options on the client. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Milliseconds from now. */
  timeoutMs?: number;
}

/** A typed client: one method per RPC. */
export type ServiceClient<S extends GenServiceMethods> = {
  [K in keyof S]: S[K]['methodKind'] extends 'unary'
    ? (req: MessageInitShape<S[K]['input']>, opts?: CallOptions) => Promise<MessageShape<S[K]['output']>>
    : S[K]['methodKind'] extends 'server_streaming'
      ? (req: MessageInitShape<S[K]['input']>, opts?: CallOptions) => AsyncIterable<MessageShape<S[K]['output']>>
      : never;
};
