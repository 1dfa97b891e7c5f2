/**
 * Serves and calls protobuf-es v2 services over `@grpc/grpc-js` (unary and server-streaming),
 * with gRPC health and the single mapping from Longshore errors to gRPC status codes.
 */
export { RpcServer } from './server.js';
export type { Authorize, RpcServerOptions, HandlerWrapper, WrappedCall } from './server.js';
export { propagateTraceContext, traceServerCall } from './tracing.js';
export { createRpcClient } from './client.js';
export type { RpcClient, RpcClientOptions } from './client.js';
export { toGrpcServiceDefinition } from './service-definition.js';
export { toWireStatus, fromServiceError } from './status.js';
export type { CallContext, CallOptions, ServiceImpl, ServiceClient } from './types.js';
export { executorEnum, jobStateEnum, failureClassEnum, agentStateEnum, poolHealthEnum, logStreamEnum, tokenRoleEnum, pullPolicyEnum } from './convert/enums.js';
export { specFromProto, specToProto, jobToProto, retryFromProto } from './convert/job.js';
export { poolToProto } from './convert/pool.js';
export { agentToProto, agentFromProto } from './convert/agent.js';
export { serve } from './serve.js';
export type { ServiceHandle } from './serve.js';
export { serverCredentials, channelCredentials, checkPlaintext, isLoopbackAddress } from './tls.js';
