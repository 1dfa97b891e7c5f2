/**
 * The Longshore client SDK: what your own programs (and the `longshore` CLI) use to submit jobs,
 * follow their output and manage pools. Errors are `LongshoreError`s carrying a gRPC code.
 */
export { LongshoreClient } from './client.js';
export { DEFAULT_DISPATCHER, DEFAULT_REGISTRY } from './defaults.js';
export type { ClientOptions, JobSpecInit } from './client.js';
export { exitCodeOf, isFinished } from './exit-code.js';
export { Code, LongshoreError } from '@longshore/domain';
export * from '@longshore/proto';
