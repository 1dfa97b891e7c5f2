import type { Code } from './code.js';

/**
 * Base of every error Longshore raises on purpose. Carries a {@link Code}; the gRPC edge turns
 * it into a status with this message. Anything else thrown becomes INTERNAL with a generic message.
 */
export class LongshoreError extends Error {
  override name = 'LongshoreError';
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
