/**
 * Thrown when a variable is invalid; the message names it and says what is expected. In a module
 * of its own (no zod), so code that only catches it does not load the schemas.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
