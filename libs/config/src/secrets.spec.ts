import { describe, expect, it } from 'vitest';
import { ConfigError } from './parse-env.js';
import { loadSecretsConfig } from './secrets.js';

describe('loadSecretsConfig', () => {
  it('defaults to env,files, adding aws only when AWS_REGION is set', () => {
    const plain = loadSecretsConfig({});
    expect(plain).toMatchObject({ providers: ['env', 'files'], envPrefix: 'LONGSHORE_SECRET_', dir: '/mnt/secrets', maxBytes: 1024 * 1024, ttlMs: 60_000, awsPrefix: '' });
    expect(plain.awsRegion).toBeUndefined();
    expect(loadSecretsConfig({ AWS_REGION: 'eu-west-1' })).toMatchObject({ providers: ['env', 'files', 'aws'], awsRegion: 'eu-west-1' });
  });

  it('takes the order given, and an empty list for none', () => {
    expect(loadSecretsConfig({ LONGSHORE_SECRET_PROVIDERS: 'files,env' }).providers).toEqual(['files', 'env']);
    expect(loadSecretsConfig({ LONGSHORE_SECRET_PROVIDERS: '' }).providers).toEqual([]);
  });

  it('fails at start naming the variable', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ LONGSHORE_SECRET_PROVIDERS: 'env,vault' }, /LONGSHORE_SECRET_PROVIDERS="env,vault": "vault" is not a secret provider/],
      [{ LONGSHORE_SECRET_PROVIDERS: 'env,env' }, /LONGSHORE_SECRET_PROVIDERS.*twice/],
      [{ LONGSHORE_SECRET_PROVIDERS: 'env,aws' }, /LONGSHORE_SECRET_PROVIDERS="env,aws": the aws provider needs AWS_REGION/],
      [{ LONGSHORE_SECRETS_DIR: 'relative' }, /LONGSHORE_SECRETS_DIR="relative": must be an absolute path/],
      [{ LONGSHORE_SECRET_MAX_BYTES: 'lots' }, /LONGSHORE_SECRET_MAX_BYTES/],
      [{ LONGSHORE_SECRET_TTL: 'soon' }, /LONGSHORE_SECRET_TTL/],
      [{ LONGSHORE_SECRET_ENV_PREFIX: 'A-B' }, /LONGSHORE_SECRET_ENV_PREFIX/],
    ];
    for (const [source, message] of cases) {
      expect(() => loadSecretsConfig(source)).toThrow(ConfigError);
      expect(() => loadSecretsConfig(source)).toThrow(message);
    }
  });
});
