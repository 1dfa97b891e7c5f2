import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { writeKubeSecretVolume } from '@longshore/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { AwsSecretProvider, type SecretsManagerLike } from './aws-provider.js';
import { EnvSecretProvider } from './env-provider.js';
import { FilesSecretProvider } from './files-provider.js';
import { SecretReadError } from './provider.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ls-secrets-'));
  dirs.push(d);
  return d;
}

describe('EnvSecretProvider', () => {
  it('reads only names under its prefix', async () => {
    const p = new EnvSecretProvider('LONGSHORE_SECRET_', { LONGSHORE_SECRET_DB: 'pw-from-env', LONGSHORE_REDIS_URL: 'redis://x' });
    expect(await p.get('DB')).toEqual({ value: 'pw-from-env', version: 'env' });
    expect(await p.get('REDIS_URL')).toBeUndefined();
    expect(p.describe('DB')).toBe('LONGSHORE_SECRET_DB');
  });
});

describe('FilesSecretProvider', () => {
  it('reads a file per name with a content-hash version, and a Kubernetes ..data swap without restart', async () => {
    const dir = tempDir();
    writeKubeSecretVolume(dir, 'v1', { DB_PASSWORD: 'first-password' });
    const p = new FilesSecretProvider(dir, 1024);
    const one = await p.get('DB_PASSWORD');
    expect(one?.value).toBe('first-password');
    expect(one?.version).toMatch(/^sha256:[0-9a-f]{12}@\d{4}-\d\d-\d\dT/);
    writeKubeSecretVolume(dir, 'v2', { DB_PASSWORD: 'second-password' });
    const two = await p.get('DB_PASSWORD');
    expect(two?.value).toBe('second-password');
    expect(two?.version).not.toBe(one?.version);
    expect(await p.get('MISSING')).toBeUndefined();
  });

  it('reads a file again when it is rewritten in place', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'TOKEN'), 'aaaaaaaa');
    const p = new FilesSecretProvider(dir, 1024);
    expect((await p.get('TOKEN'))?.value).toBe('aaaaaaaa');
    writeFileSync(join(dir, 'TOKEN'), 'bbbbbbbbbb');
    expect((await p.get('TOKEN'))?.value).toBe('bbbbbbbbbb');
  });

  it('refuses a link that leads outside the directory, an oversize file and a FIFO, naming the path', async () => {
    const dir = tempDir();
    const outside = tempDir();
    writeFileSync(join(outside, 'target'), 'not-yours');
    symlinkSync(join(outside, 'target'), join(dir, 'ESCAPE'));
    symlinkSync('../', join(dir, 'UP'));
    writeFileSync(join(dir, 'BIG'), 'x'.repeat(2000));
    execFileSync('mkfifo', [join(dir, 'PIPE')]);
    const p = new FilesSecretProvider(dir, 1024);
    await expect(p.get('ESCAPE')).rejects.toThrow(/ESCAPE leads outside/);
    await expect(p.get('UP')).rejects.toThrow(SecretReadError);
    await expect(p.get('BIG')).rejects.toThrow(/BIG is 2000 bytes, more than LONGSHORE_SECRET_MAX_BYTES \(1Ki\)/);
    await expect(p.get('PIPE')).rejects.toThrow(/PIPE is not a regular file/);
    for (const name of ['ESCAPE', 'BIG']) await expect(p.get(name)).rejects.not.toThrow(/not-yours|xxxx/);
  });

  it('finds nothing when the directory does not exist', async () => {
    expect(await new FilesSecretProvider(join(tempDir(), 'none'), 1024).get('X')).toBeUndefined();
  });
});

/** A fake Secrets Manager: a current value and version per id, counting calls. */
class FakeSecretsManager implements SecretsManagerLike {
  calls = 0;
  readonly secrets = new Map<string, { value: string; version: string }>();
  failWith: Error | undefined;

  send(command: GetSecretValueCommand) {
    this.calls++;
    if (this.failWith) return Promise.reject(this.failWith);
    const s = this.secrets.get(command.input.SecretId ?? '');
    if (!s) return Promise.reject(Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException' }));
    return Promise.resolve({ SecretString: s.value, VersionId: s.version, $metadata: {} });
  }
}

describe('AwsSecretProvider', () => {
  it('maps a name to <prefix><NAME>, caches for the TTL and picks up a rotation after it', async () => {
    const sm = new FakeSecretsManager();
    sm.secrets.set('prod/DB', { value: 'aws-value-1', version: 'v-1' });
    let now = 1_000;
    const p = new AwsSecretProvider(sm, { prefix: 'prod/', ttlMs: 60_000, now: () => now });
    expect(await p.get('DB')).toEqual({ value: 'aws-value-1', version: 'v-1' });
    sm.secrets.set('prod/DB', { value: 'aws-value-2', version: 'v-2' });
    now += 59_999;
    expect((await p.get('DB'))?.version).toBe('v-1');
    expect(sm.calls).toBe(1);
    now += 1;
    expect(await p.get('DB')).toEqual({ value: 'aws-value-2', version: 'v-2' });
  });

  it('says not found for a missing secret (not cached) and refuses on other errors, naming the id', async () => {
    const sm = new FakeSecretsManager();
    const p = new AwsSecretProvider(sm, { prefix: '', ttlMs: 60_000 });
    expect(await p.get('NOPE')).toBeUndefined();
    expect(await p.get('NOPE')).toBeUndefined();
    expect(sm.calls).toBe(2);
    sm.failWith = Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });
    await expect(p.get('DB')).rejects.toThrow(/Secrets Manager refused DB: AccessDeniedException/);
  });
});
