import { Code } from './code.js';
import { LongshoreError } from './longshore-error.js';

/** Thrown when a dependency (Redis) cannot be reached; the client may retry. */
export class UnavailableError extends LongshoreError {
  override name = 'UnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.Unavailable, message, options);
  }
}
