import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, serviceEnv } from './services.js';

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
