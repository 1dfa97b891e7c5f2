import type { SecretProvider, SecretValue } from './provider.js';

/**
 * Secrets from the agent's own environment, only under a prefix: `${DB_PASSWORD}` reads
 * `LONGSHORE_SECRET_DB_PASSWORD`, so a job cannot name the agent's other variables (its Redis
 * URL, token or cloud credentials). Changing one takes a restart of the agent.
 */
export class EnvSecretProvider implements SecretProvider {
  readonly name = 'env';

  constructor(
    private readonly prefix: string,
    private readonly source: NodeJS.ProcessEnv = process.env,
  ) {}

  describe(name: string): string {
    return `${this.prefix}${name}`;
  }

  get(name: string): Promise<SecretValue | undefined> {
    const value = this.source[this.describe(name)];
    return Promise.resolve(value === undefined ? undefined : { value, version: 'env' });
  }
}
