import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRegistryAuth, registryAuthFor, registryOfImage, runCredentialHelper, type CredentialHelperRunner } from './docker-auth.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('registry credentials from DOCKER_CONFIG', () => {
  it('finds the registry of an image reference as the docker CLI does', () => {
    expect(registryOfImage('busybox')).toBe('docker.io');
    expect(registryOfImage('busybox:1')).toBe('docker.io');
    expect(registryOfImage('team/tool:2')).toBe('docker.io');
    expect(registryOfImage('docker.io/library/busybox')).toBe('docker.io');
    expect(registryOfImage('index.docker.io/team/tool')).toBe('docker.io');
    expect(registryOfImage('registry.example:5000/team/tool@sha256:abc')).toBe('registry.example:5000');
    expect(registryOfImage('ghcr.io/org/img:1')).toBe('ghcr.io');
    expect(registryOfImage('localhost/img')).toBe('localhost');
    expect(registryOfImage('127.0.0.1:5000/img')).toBe('127.0.0.1:5000');
  });

  it("uses the entry of the image's registry, whatever form its key has", () => {
    const config = {
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hub-user:hub:pass') },
        'registry.example:5000': { auth: b64('alice:s3cret') },
        'https://ghcr.io/v2/': { username: 'bob', password: 'pw' },
        'tokens.example': { identitytoken: 'tok' },
      },
    };
    expect(registryAuthFor(config, 'busybox:1')).toEqual({ username: 'hub-user', password: 'hub:pass', serveraddress: 'https://index.docker.io/v1/' });
    expect(registryAuthFor(config, 'registry.example:5000/team/tool')).toEqual({ username: 'alice', password: 's3cret', serveraddress: 'registry.example:5000' });
    expect(registryAuthFor(config, 'ghcr.io/org/img')).toEqual({ username: 'bob', password: 'pw', serveraddress: 'https://ghcr.io/v2/' });
    expect(registryAuthFor(config, 'tokens.example/img')).toEqual({ identitytoken: 'tok', serveraddress: 'tokens.example' });
    expect(registryAuthFor(config, 'registry.example/team/tool')).toBeUndefined(); // another port is another registry
    expect(registryAuthFor({}, 'busybox')).toBeUndefined();
    expect(() => registryAuthFor({ auths: { 'r.example': { auth: b64('no-colon') } } }, 'r.example/x')).toThrow('is not base64 of user:password');
  });

  it('reads config.json in the DOCKER_CONFIG directory, naming the file when it cannot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'docker-config-'));
    try {
      await expect(readRegistryAuth(dir, 'busybox')).rejects.toThrow(`cannot read the registry credentials in ${join(dir, 'config.json')} (DOCKER_CONFIG)`);
      await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { 'r.example:5000': { auth: b64('u:p') } } }));
      expect(await readRegistryAuth(dir, 'r.example:5000/img:1')).toEqual({ username: 'u', password: 'p', serveraddress: 'r.example:5000' });
      expect(await readRegistryAuth(dir, 'busybox')).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('asks the credential helper the config names for the registry (credHelpers, then credsStore) before its auths', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'docker-config-'));
    const asked: string[] = [];
    const runner: CredentialHelperRunner = async (helper, url) => {
      asked.push(`${helper} ${url}`);
      if (helper === 'ecr-login') return { ServerURL: url, Username: 'AWS', Secret: 'ecr-pass' };
      if (helper === 'desktop') return url === 'https://index.docker.io/v1/' ? { ServerURL: url, Username: '<token>', Secret: 'refresh' } : undefined;
      throw new Error(`unexpected helper ${helper}`);
    };
    try {
      const ecr = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
      await writeFile(join(dir, 'config.json'), JSON.stringify({ credHelpers: { [ecr]: 'ecr-login' }, credsStore: 'desktop', auths: { 'r.example:5000': { auth: b64('u:p') } } }));
      expect(await readRegistryAuth(dir, `${ecr}/team/tool:1`, runner)).toEqual({ username: 'AWS', password: 'ecr-pass', serveraddress: ecr });
      expect(await readRegistryAuth(dir, 'busybox', runner)).toEqual({ identitytoken: 'refresh', serveraddress: 'https://index.docker.io/v1/' });
      // With a credsStore, the store answers for every registry, as with the docker CLI: here it has none.
      expect(await readRegistryAuth(dir, 'r.example:5000/img', runner)).toBeUndefined();
      expect(asked).toEqual([`ecr-login ${ecr}`, 'desktop https://index.docker.io/v1/', 'desktop r.example:5000']);
      // Without a store, the file's own auths.
      await writeFile(join(dir, 'config.json'), JSON.stringify({ credHelpers: { [ecr]: 'ecr-login' }, auths: { 'r.example:5000': { auth: b64('u:p') } } }));
      expect(await readRegistryAuth(dir, 'r.example:5000/img', runner)).toEqual({ username: 'u', password: 'p', serveraddress: 'r.example:5000' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs docker-credential-<name> get from the PATH as the docker CLI does, "not found" meaning no credentials', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'cred-helpers-'));
    const path = process.env['PATH'];
    try {
      // Echoes the server URL it read on stdin back in its answer.
      await writeFile(join(bin, 'docker-credential-fake'), '#!/bin/sh\n[ "$1" = get ] || exit 2\nread -r url\nprintf \'{"ServerURL":"%s","Username":"me","Secret":"pw-for-%s"}\' "$url" "$url"\n');
      await writeFile(join(bin, 'docker-credential-empty'), '#!/bin/sh\necho "credentials not found in native keychain"\nexit 1\n');
      await writeFile(join(bin, 'docker-credential-broken'), '#!/bin/sh\necho "keychain locked"\nexit 1\n');
      for (const f of ['fake', 'empty', 'broken']) await chmod(join(bin, `docker-credential-${f}`), 0o755);
      process.env['PATH'] = `${bin}:${path}`;
      expect(await runCredentialHelper('fake', 'r.example:5000')).toEqual({ ServerURL: 'r.example:5000', Username: 'me', Secret: 'pw-for-r.example:5000' });
      expect(await runCredentialHelper('empty', 'r.example:5000')).toBeUndefined();
      await expect(runCredentialHelper('broken', 'r.example:5000')).rejects.toThrow('the docker credential helper docker-credential-broken failed for r.example:5000: keychain locked');
      await expect(runCredentialHelper('missing', 'r.example:5000')).rejects.toThrow('docker-credential-missing');
    } finally {
      process.env['PATH'] = path;
      await rm(bin, { recursive: true, force: true });
    }
  });
});
