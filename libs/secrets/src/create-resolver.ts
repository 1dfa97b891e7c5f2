import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretsSettings } from '@longshore/domain';
import { AwsSecretProvider, type SecretsManagerLike } from './aws-provider.js';
import { EnvSecretProvider } from './env-provider.js';
import { FilesSecretProvider } from './files-provider.js';
import type { SecretProvider } from './provider.js';
import { SecretResolver } from './resolver.js';

/**
 * The agent's resolver, its providers in the configured order. The Secrets Manager client is made
 * only when `aws` is listed (default credential chain; `AWS_ENDPOINT_URL_SECRETS_MANAGER` or
 * `AWS_ENDPOINT_URL` is honoured by the SDK itself), so nothing probes for cloud credentials
 * otherwise; `awsClient` replaces it in tests.
 */
export function createSecretResolver(s: SecretsSettings, opts: { env?: NodeJS.ProcessEnv; awsClient?: SecretsManagerLike } = {}): SecretResolver {
  const providers: SecretProvider[] = s.providers.map((name) => {
    switch (name) {
      case 'env':
        return new EnvSecretProvider(s.envPrefix, opts.env ?? process.env);
      case 'files':
        return new FilesSecretProvider(s.dir, s.maxBytes);
      case 'aws':
        return new AwsSecretProvider(opts.awsClient ?? new SecretsManagerClient(s.awsRegion ? { region: s.awsRegion } : {}), { prefix: s.awsPrefix, ttlMs: s.ttlMs });
    }
  });
  return new SecretResolver(providers);
}
