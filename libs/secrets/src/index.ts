/**
 * `@longshore/secrets`: secret references (`${NAME}`) resolved on the agent from its providers
 * (environment, a mounted directory, AWS Secrets Manager), and the redaction of their values.
 */
export { SecretReadError } from './provider.js';
export type { SecretProvider, SecretValue } from './provider.js';
export { EnvSecretProvider } from './env-provider.js';
export { FilesSecretProvider } from './files-provider.js';
export { AwsSecretProvider } from './aws-provider.js';
export type { AwsSecretProviderOptions, SecretsManagerLike } from './aws-provider.js';
export { SecretResolver, SecretResolutionError } from './resolver.js';
export type { EcsResolvedEnv, ResolvedEnv } from './resolver.js';
export { Redactor, REDACTION_MASK, MIN_REDACTED_LENGTH, redactionNeedles } from './redactor.js';
export type { RedactedLine } from './redactor.js';
export { createSecretResolver } from './create-resolver.js';
