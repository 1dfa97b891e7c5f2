import { SECRET_PROVIDERS, type SecretProviderName, type SecretsSettings } from '@longshore/domain';
import { z } from 'zod';
import { ConfigError, env, parseEnv } from './parse-env.js';

/** Secret settings' defaults, as a user would write them (LONGSHORE_SECRET_PROVIDERS's depends on AWS_REGION). */
export const SECRET_DEFAULTS = {
  LONGSHORE_SECRET_ENV_PREFIX: 'LONGSHORE_SECRET_',
  LONGSHORE_SECRETS_DIR: '/mnt/secrets',
  LONGSHORE_SECRET_MAX_BYTES: '1Mi',
  LONGSHORE_SECRET_TTL: '60s',
  LONGSHORE_SECRET_AWS_PREFIX: '',
} as const;

/** Where and how an agent resolves `${NAME}` references (see the README's "Secrets"). */
export type SecretsConfig = SecretsSettings;

const providerList = z.string().transform((text, ctx) => {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(SECRET_PROVIDERS as readonly string[]).includes(n)) {
      ctx.addIssue({ code: 'custom', message: `"${n}" is not a secret provider: list some of ${SECRET_PROVIDERS.join(', ')} in the order to ask them (e.g. env,files)` });
      return z.NEVER;
    }
  }
  if (new Set(names).size !== names.length) {
    ctx.addIssue({ code: 'custom', message: 'names a provider twice: list each at most once' });
    return z.NEVER;
  }
  return names as SecretProviderName[];
});

/**
 * Reads the agent's secret settings. The aws provider is only used when `AWS_REGION` is set and
 * `aws` is listed (it is by default then), so an agent never probes for cloud credentials
 * unasked; listing it without a region stops the agent naming both variables.
 */
export function loadSecretsConfig(source: NodeJS.ProcessEnv): SecretsConfig {
  const region = source['AWS_REGION'] || undefined;
  const e = parseEnv(
    {
      LONGSHORE_SECRET_PROVIDERS: providerList,
      LONGSHORE_SECRET_ENV_PREFIX: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a variable name prefix: letters, digits and _, e.g. LONGSHORE_SECRET_'),
      LONGSHORE_SECRETS_DIR: z.string().startsWith('/', 'must be an absolute path (e.g. /mnt/secrets)'),
      LONGSHORE_SECRET_MAX_BYTES: env.bytes().pipe(z.number().min(1, 'must be at least 1 byte').max(64 * 1024 * 1024, 'must be at most 64Mi')),
      LONGSHORE_SECRET_TTL: env.duration(),
      LONGSHORE_SECRET_AWS_PREFIX: z.string().regex(/^[A-Za-z0-9/_+=.@-]{0,256}$/, 'must be a Secrets Manager name prefix: letters, digits and /_+=.@- (e.g. prod/longshore/)'),
    },
    { ...SECRET_DEFAULTS, LONGSHORE_SECRET_PROVIDERS: region ? 'env,files,aws' : 'env,files' },
    // Set but empty means "no providers", which the default would hide.
    source['LONGSHORE_SECRET_PROVIDERS'] === '' ? { ...source, LONGSHORE_SECRET_PROVIDERS: ' ' } : source,
  );
  if (e.LONGSHORE_SECRET_PROVIDERS.includes('aws') && !region) {
    throw new ConfigError(
      `invalid configuration:\n  LONGSHORE_SECRET_PROVIDERS="${e.LONGSHORE_SECRET_PROVIDERS.join(',')}": the aws provider needs AWS_REGION (e.g. AWS_REGION=eu-west-1); set it, or leave aws out`,
    );
  }
  return Object.freeze({
    providers: Object.freeze([...e.LONGSHORE_SECRET_PROVIDERS]),
    envPrefix: e.LONGSHORE_SECRET_ENV_PREFIX,
    dir: e.LONGSHORE_SECRETS_DIR,
    maxBytes: e.LONGSHORE_SECRET_MAX_BYTES,
    ttlMs: e.LONGSHORE_SECRET_TTL,
    awsPrefix: e.LONGSHORE_SECRET_AWS_PREFIX,
    ...(region ? { awsRegion: region } : {}),
  });
}
