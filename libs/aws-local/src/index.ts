/**
 * `@longshore/aws-local`: local stand-ins for the AWS APIs Longshore calls (ECS, CloudWatch Logs),
 * for development and tests: they speak AWS JSON 1.1 and run ECS tasks as containers on a local
 * Docker engine.
 */
export { startAwsLocalEndpoint, CONTROL_PATH, ECS_TARGET, LOGS_TARGET } from './endpoint.js';
export type { AwsLocalEndpoint, AwsLocalOptions } from './endpoint.js';
export { Faults, INJECTED_START_FAILURE } from './faults.js';
export type { FaultSpec, RunTaskFailureReason } from './faults.js';
export { ENDPOINT_LABEL, TASK_LABEL } from './docker-runtime.js';
export { OOM_REASON, ESSENTIAL_EXITED, STOPPED_BY_USER } from './task.js';
export type { StopCode, TaskStatus } from './task.js';
export type { ContainerExit, ContainerRunSpec, ContainerRuntime, RunningContainer } from './runtime.js';
