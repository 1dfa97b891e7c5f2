import { Code } from './code.js';
import { LongshoreError } from './longshore-error.js';

/** Thrown when a server-side limit (e.g. concurrent log followers) is reached. */
export class ResourceExhaustedError extends LongshoreError {
  override name = 'ResourceExhaustedError';
  constructor(message: string) {
    super(Code.ResourceExhausted, message);
  }
}
