import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRegistryAuth, registryAuthFor, registryOfImage } from './docker-auth.js';

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
});
