import { Code } from './code.js';
import { LongshoreError } from './longshore-error.js';

/** Thrown when a named pool, job or agent does not exist. */
export class NotFoundError extends LongshoreError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super(Code.NotFound, message);
  }
}
