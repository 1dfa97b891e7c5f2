import { Code } from './code.js';
import { LongshoreError } from './longshore-error.js';

/** Thrown when a call carries no token, or one that is unknown, malformed or revoked. */
export class UnauthenticatedError extends LongshoreError {
  override name = 'UnauthenticatedError';
  constructor(message: string) {
    super(Code.Unauthenticated, message);
  }
}
