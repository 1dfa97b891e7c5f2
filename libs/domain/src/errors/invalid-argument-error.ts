import { Code } from './code.js';
import { LongshoreError } from './longshore-error.js';

/** Thrown when a request or spec fails validation; `field` names what to fix. */
export class InvalidArgumentError extends LongshoreError {
  override name = 'InvalidArgumentError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(Code.InvalidArgument, `${field}: ${message}`);
  }
}
