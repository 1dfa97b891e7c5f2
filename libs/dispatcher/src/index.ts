/** The dispatcher: takes jobs from clients, validates and enqueues them, and reports on them. */
export { startDispatcher, IDEMPOTENCY_WINDOW_MS } from './dispatcher-server.js';
export type { DispatcherHandle } from './dispatcher-server.js';
export { dispatcherService } from './dispatcher-service.js';
export type { DispatcherDeps } from './dispatcher-service.js';
export { prepareJob, DEFAULT_MAX_ATTEMPTS } from './submission.js';
export { SubmitRateLimiter } from './submit-rate-limit.js';
