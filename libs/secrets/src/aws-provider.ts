import { GetSecretValueCommand, type GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { SecretReadError, type SecretProvider, type SecretValue } from './provider.js';

/** The part of `SecretsManagerClient` the provider uses: a seam for tests (a fake) and the real client alike. */
export interface SecretsManagerLike {
  send(command: GetSecretValueCommand, options?: { abortSignal?: AbortSignal }): Promise<GetSecretValueCommandOutput>;
}

/** What {@link AwsSecretProvider} needs besides its client. */
export interface AwsSecretProviderOptions {
  /** Put before a name to make its secret id: `prod/` makes `${DB_PASSWORD}` read `prod/DB_PASSWORD`. */
  prefix: string;
  /** How long a value is used before it is fetched again (a rotation reaches jobs within this). */
  ttlMs: number;
  now?: () => number;
}

interface Cached {
  at: number;
  secret: Promise<SecretValue | undefined>;
}

/**
 * Secrets from AWS Secrets Manager (`GetSecretValue`, the `AWSCURRENT` stage) under the secret id
 * `<prefix><NAME>`. Values are cached for a TTL, so a rotation reaches the next job once it
 * passed, without a restart; a missing secret is not cached. A binary secret is read as UTF-8.
 */
export class AwsSecretProvider implements SecretProvider {
  readonly name = 'aws';
  private readonly cache = new Map<string, Cached>();
  private readonly now: () => number;

  constructor(
    private readonly client: SecretsManagerLike,
    private readonly opts: AwsSecretProviderOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  describe(name: string): string {
    return `Secrets Manager secret ${this.opts.prefix}${name}`;
  }

  get(name: string, signal?: AbortSignal): Promise<SecretValue | undefined> {
    const hit = this.cache.get(name);
    if (hit && this.now() - hit.at < this.opts.ttlMs) return hit.secret;
    const secret = this.fetch(name, signal);
    const entry = { at: this.now(), secret };
    this.cache.set(name, entry);
    // Only values are kept: a miss or a failure is asked again next time.
    secret.then(
      (s) => {
        if (!s && this.cache.get(name) === entry) this.cache.delete(name);
      },
      () => {
        if (this.cache.get(name) === entry) this.cache.delete(name);
      },
    );
    return secret;
  }

  private async fetch(name: string, signal?: AbortSignal): Promise<SecretValue | undefined> {
    const id = `${this.opts.prefix}${name}`;
    let out: GetSecretValueCommandOutput;
    try {
      out = await this.client.send(new GetSecretValueCommand({ SecretId: id }), signal ? { abortSignal: signal } : {});
    } catch (err) {
      const e = err as Error;
      if (e.name === 'ResourceNotFoundException') return undefined;
      throw new SecretReadError(`Secrets Manager refused ${id}: ${e.name}: ${e.message}`);
    }
    const value = out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString('utf8') : undefined);
    if (value === undefined) throw new SecretReadError(`Secrets Manager secret ${id} has no value in its current version`);
    return { value, version: out.VersionId ?? 'unknown', ...(out.ARN ? { arn: out.ARN } : {}) };
  }
}
