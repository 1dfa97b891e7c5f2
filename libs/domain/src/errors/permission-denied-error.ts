import { Code } from './code.js';
import { LongshoreError } from './longshore-error.js';

/** Thrown when a valid token's role or pools do not allow the call; the message names what is needed. */
export class PermissionDeniedError extends LongshoreError {
  override name = 'PermissionDeniedError';
  constructor(message: string) {
    super(Code.PermissionDenied, message);
  }
}
