import { describe, expect, it } from 'vitest';
import { SecretReadError, type SecretProvider, type SecretValue } from './provider.js';
import { SecretResolutionError, SecretResolver } from './resolver.js';

/** A provider holding fixed secrets; a name mapped to an Error fails to read. */
function provider(name: SecretProvider['name'], secrets: Record<string, SecretValue | Error>): SecretProvider & { asked: string[] } {
  const asked: string[] = [];
  return {
    name,
    asked,
    describe: (n) => `${name}:${n}`,
    get(n) {
      asked.push(n);
      const s = secrets[n];
      return s instanceof Error ? Promise.reject(s) : Promise.resolve(s);
    },
  };
}

describe('SecretResolver', () => {
  it('resolves references in env values from the first provider that has each name, and reports the versions used', async () => {
    const env = provider('env', { A: { value: 'from-env-A', version: 'env' } });
    const files = provider('files', { A: { value: 'from-files-A', version: 'f1' }, DB: { value: '{"user":"app","password":"pw-123456"}', version: 'f2' } });
    const r = new SecretResolver([env, files]);
    const out = await r.resolveEnv({ X: 'a=${A}', U: '${DB#user}:${DB#password}', LIT: '$${A}', PLAIN: 'p' });
    expect(out.env).toEqual({ X: 'a=from-env-A', U: 'app:pw-123456', LIT: '${A}', PLAIN: 'p' });
    expect(out.uses).toEqual([
      { name: 'A', provider: 'env', version: 'env' },
      { name: 'DB', provider: 'files', version: 'f2' },
    ]);
    expect(out.values).toEqual(expect.arrayContaining(['from-env-A', '{"user":"app","password":"pw-123456"}', 'app', 'pw-123456']));
    expect(files.asked).toEqual(['DB']);
  });

  it('leaves an env without references as it is, asking no provider', async () => {
    const env = provider('env', {});
    const out = await new SecretResolver([env]).resolveEnv({ HOME_DIR: '$HOME' });
    expect(out).toEqual({ env: { HOME_DIR: '$HOME' }, uses: [], values: [] });
    expect(env.asked).toEqual([]);
  });

  it('names the secret and every provider tried when none has it, never a value', async () => {
    const r = new SecretResolver([provider('env', { OTHER: { value: 'other-value', version: 'env' } }), provider('files', {})]);
    const err = await r.resolveEnv({ X: '${MISSING}', Y: '${OTHER}' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretResolutionError);
    expect((err as Error).message).toBe('secret MISSING was not found in any provider of this agent: tried env (env:MISSING), files (files:MISSING)');
  });

  it('stops at a provider that has the secret but cannot read it, rather than falling through', async () => {
    const aws = provider('aws', { DB: { value: 'should-not-be-used', version: 'v' } });
    const r = new SecretResolver([provider('files', { DB: new SecretReadError('/mnt/secrets/DB is 9 bytes, more than LONGSHORE_SECRET_MAX_BYTES (1)') }), aws]);
    await expect(r.resolveEnv({ X: '${DB}' })).rejects.toThrow('secret DB could not be read from files: /mnt/secrets/DB is 9 bytes');
    expect(aws.asked).toEqual([]);
  });

  it('refuses a value with a NUL byte (an env cannot hold one), naming the variable and secret, not the value', async () => {
    const r = new SecretResolver([provider('files', { BIN: { value: 'abc\0secret-tail', version: 'f' } })]);
    const err = (await r.resolveEnv({ X: 'pre ${BIN}' }).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe('env.X: a secret it references (BIN) contains a NUL byte, which an environment variable cannot hold');
  });

  it('refuses a JSON key on a secret that is not JSON or lacks the field, without showing the value', async () => {
    const r = new SecretResolver([provider('env', { PLAIN: { value: 'plain-secret-value', version: 'env' }, J: { value: '{"a":"b"}', version: 'env' } })]);
    const notJson = (await r.resolveEnv({ X: '${PLAIN#user}' }).catch((e: unknown) => e)) as Error;
    expect(notJson.message).toMatch(/PLAIN#user: PLAIN \(from env\) is not JSON/);
    expect(notJson.message).not.toContain('plain-secret-value');
    await expect(r.resolveEnv({ X: '${J#user}' })).rejects.toThrow('has no string field "user"');
  });
});
