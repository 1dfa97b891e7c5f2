export { Code } from './code.js';
export { LongshoreError } from './longshore-error.js';
export { InvalidArgumentError } from './invalid-argument-error.js';
export { NotFoundError } from './not-found-error.js';
export { AlreadyExistsError } from './already-exists-error.js';
export { FailedPreconditionError } from './failed-precondition-error.js';
export { UnavailableError } from './unavailable-error.js';
export { ResourceExhaustedError } from './resource-exhausted-error.js';
