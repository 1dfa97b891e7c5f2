import { Code } from './code.js';
import { LongshoreError } from './longshore-error.js';

/** Thrown when creating something whose id is taken. */
export class AlreadyExistsError extends LongshoreError {
  override name = 'AlreadyExistsError';
  constructor(message: string) {
    super(Code.AlreadyExists, message);
  }
}
