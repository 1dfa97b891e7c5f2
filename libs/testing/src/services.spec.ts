import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, serviceCommand, serviceEnv } from './services.js';

describe('repoRoot', () => {
  it('is the directory holding nx.json and the services', () => {
    expect(existsSync(join(repoRoot, 'nx.json'))).toBe(true);
    expect(existsSync(join(repoRoot, 'libs', 'testing', 'src', 'services.ts'))).toBe(true);
  });
});

describe('serviceEnv', () => {
  it('drops inherited NODE_OPTIONS and VITEST* variables and lets the caller override', () => {
    const base = { PATH: '/bin', NODE_OPTIONS: '--loader x', VITEST: 'true', VITEST_POOL_ID: '1', REDIS_URL: 'old' };
    expect(serviceEnv({ REDIS_URL: 'redis://127.0.0.1:1' }, base)).toEqual({
      PATH: '/bin',
      REDIS_URL: 'redis://127.0.0.1:1',
    });
  });
});

describe('serviceCommand', () => {
  it('runs the compiled main once built, else the sources through tsx with the source condition', () => {
    const root = mkdtempSync(join(tmpdir(), 'longshore-svc-'));
    try {
      mkdirSync(join(root, 'services', 'dispatcher', 'src'), { recursive: true });
      writeFileSync(join(root, 'services', 'dispatcher', 'src', 'main.ts'), '');
      expect(serviceCommand('dispatcher', root)).toEqual(['--conditions=@longshore/source', '--import', 'tsx', join(root, 'services', 'dispatcher', 'src', 'main.ts')]);
      mkdirSync(join(root, 'services', 'dispatcher', 'dist'));
      writeFileSync(join(root, 'services', 'dispatcher', 'dist', 'main.js'), '');
      expect(serviceCommand('dispatcher', root)).toEqual([join(root, 'services', 'dispatcher', 'dist', 'main.js')]);
      expect(() => serviceCommand('worker-agent', root)).toThrow(/service "worker-agent" has no entry point/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
