/**
 * `@longshore/agent/testing`: in-memory fakes of the agent's parts, for unit tests without
 * Redis or processes. They live here, not in `@longshore/testing`, because they implement
 * `@longshore/queue` and agent types, and queue, store and agent use `@longshore/testing` in their
 * own tests: importing them from there would be a project cycle (`@nx/enforce-module-boundaries`
 * refuses it). The scriptable executor has no such tie and is `FakeExecutor` in `@longshore/testing`.
 */
export { FakeJobSource, fakeSpec } from './fake-job-source.js';
export type { FakeJobInit, FakeJobSourceOptions, FakeJobState, FinishedAttempt } from './fake-job-source.js';
export { FakeRegistry } from './fake-registry.js';
export { FakeAgentEvents } from './fake-events.js';
