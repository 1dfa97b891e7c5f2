import { Code } from './code.js';
import { LongshoreError } from './longshore-error.js';

/** Thrown when a request is valid but the system's state refuses it (e.g. deleting the default pool). */
export class FailedPreconditionError extends LongshoreError {
  override name = 'FailedPreconditionError';
  constructor(message: string) {
    super(Code.FailedPrecondition, message);
  }
}
