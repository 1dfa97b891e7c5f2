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

describe('SecretResolver for ECS jobs', () => {
  const arn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:p/DB-a1b2c3';
  const tokenArn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:p/TOKEN-d4e5f6';
  const aws = () =>
    provider('aws', {
      DB: { value: '{"user":"app","password":"pw-123456"}', version: 'v-db', arn },
      TOKEN: { value: 'tok-abcdef', version: 'v-tok', arn: tokenArn },
    });

  it('turns whole references into task definition secrets pinned to their versions, and keeps the other variables', async () => {
    const out = await new SecretResolver([aws()]).resolveForEcs({ T: '${TOKEN}', P: '${DB#password}', LIT: '$${TOKEN}', PLAIN: 'p' });
    expect(out.env).toEqual({ LIT: '${TOKEN}', PLAIN: 'p' });
    expect(out.secrets).toEqual([
      { name: 'P', valueFrom: `${arn}:password::v-db` },
      { name: 'T', valueFrom: `${tokenArn}:::v-tok` },
    ]);
    expect(out.uses).toEqual([
      { name: 'DB', provider: 'aws', version: 'v-db' },
      { name: 'TOKEN', provider: 'aws', version: 'v-tok' },
    ]);
    // The values are read for the log's redactor, never put in the env.
    expect(out.values).toEqual(expect.arrayContaining(['tok-abcdef', 'pw-123456']));
    expect(JSON.stringify(out.env)).not.toContain('tok-abcdef');
  });

  it('refuses a reference inside a longer value, a secret from env or files, and a missing JSON field, naming the variable', async () => {
    const r = new SecretResolver([provider('env', { E: { value: 'env-value-1', version: 'env' } }), aws()]);
    await expect(r.resolveForEcs({ URL: 'x${TOKEN}y' })).rejects.toThrow(/^env\.URL: an ECS job gets a secret through its task definition's secrets, which set a variable to a whole secret only/);
    await expect(r.resolveForEcs({ X: '${E}' })).rejects.toThrow(/^env\.X: secret E comes from the env provider on this agent, but an ECS job gets its secrets from Secrets Manager only/);
    await expect(r.resolveForEcs({ X: '${DB#nope}' })).rejects.toThrow(/has no string field "nope"/);
    const err = await r.resolveForEcs({ X: '${E}' }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(SecretResolutionError);
    expect((err as Error).message).not.toContain('env-value-1');
  });

  it('unescapes $${ in an env without references', async () => {
    expect((await new SecretResolver([]).resolveEnv({ LIT: '$${A}' })).env).toEqual({ LIT: '${A}' });
  });
});
