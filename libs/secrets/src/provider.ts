import type { SecretProviderName } from '@longshore/domain';

/** A secret's value as a provider has it, with the provider's version of it (never logged). */
export interface SecretValue {
  value: string;
  /** `env`; `sha256:<12 hex>@<mtime ISO>` for a file; the Secrets Manager `VersionId`. */
  version: string;
  /** The Secrets Manager secret's ARN (aws only): what an ECS task definition's `secrets` point at, pinned to `version`. */
  arn?: string;
}

/**
 * One place an agent looks for secrets. `get` resolves undefined when the provider has no
 * secret of that name (the next provider is asked), and throws {@link SecretReadError} when it
 * has one it cannot give (unreadable, too big, outside its directory, the service refused).
 */
export interface SecretProvider {
  readonly name: SecretProviderName;
  /** Where it looks for `name`, for messages (`LONGSHORE_SECRET_DB_PASSWORD`, `/mnt/secrets/DB_PASSWORD`). */
  describe(name: string): string;
  get(name: string, signal?: AbortSignal): Promise<SecretValue | undefined>;
}

/** A provider has the secret but cannot give it. The message names where it looked and why, never a value. */
export class SecretReadError extends Error {
  override name = 'SecretReadError';
}
