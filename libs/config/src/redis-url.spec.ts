import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, chooseRedisUrl, loadAgentConfig, loadDispatcherConfig, loadRegistryConfig, redisUrlPath } from './index.js';

const FILE_URL = 'redis://:s3cret@127.0.0.1:41234';

describe('Redis URL precedence: LONGSHORE_REDIS_URL > $LONGSHORE_HOME/redis-url > default', () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'longshore-home-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  function writeUrlFile(text: string, mode = 0o600): string {
    const path = redisUrlPath({ LONGSHORE_HOME: home });
    writeFileSync(path, text, { mode });
    chmodSync(path, mode); // the umask may have narrowed it
    return path;
  }

  it('uses the default when neither the variable nor the file is there', () => {
    expect(chooseRedisUrl({ LONGSHORE_HOME: home }, 'redis://127.0.0.1:6379')).toEqual({ url: 'redis://127.0.0.1:6379', from: 'default' });
    expect(loadRegistryConfig({ LONGSHORE_HOME: home }).redisUrl).toBe('redis://127.0.0.1:6379');
  });

  it('uses the file `longshore up` wrote when the variable is unset or empty, in every service', () => {
    const path = writeUrlFile(`${FILE_URL}\n`);
    expect(chooseRedisUrl({ LONGSHORE_HOME: home }, 'redis://127.0.0.1:6379')).toEqual({ url: FILE_URL, from: path });
    expect(loadRegistryConfig({ LONGSHORE_HOME: home }).redisUrl).toBe(FILE_URL);
    expect(loadDispatcherConfig({ LONGSHORE_HOME: home, LONGSHORE_REDIS_URL: '' }).redisUrl).toBe(FILE_URL);
    expect(loadAgentConfig({ LONGSHORE_HOME: home, LONGSHORE_AGENT_ID: 'a1' }).redisUrl).toBe(FILE_URL);
  });

  it('prefers LONGSHORE_REDIS_URL to the file', () => {
    writeUrlFile(FILE_URL);
    const env = { LONGSHORE_HOME: home, LONGSHORE_REDIS_URL: 'redis://u:p@redis.internal:6380' };
    expect(chooseRedisUrl(env, 'redis://127.0.0.1:6379')).toEqual({ url: 'redis://u:p@redis.internal:6380', from: 'LONGSHORE_REDIS_URL' });
    expect(loadDispatcherConfig(env).redisUrl).toBe('redis://u:p@redis.internal:6380');
  });

  it('refuses a file other users can read, naming it and the fix but not the password', () => {
    const path = writeUrlFile(FILE_URL, 0o644);
    const err = catching(() => loadRegistryConfig({ LONGSHORE_HOME: home }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(`chmod 600 ${path}`);
    expect(err.message).not.toContain('s3cret');
  });

  it('refuses a file that is not a redis:// URL, without echoing its content', () => {
    const path = writeUrlFile('password=hunter2\n');
    const err = catching(() => loadAgentConfig({ LONGSHORE_HOME: home, LONGSHORE_AGENT_ID: 'a1' }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(path);
    expect(err.message).not.toContain('hunter2');
  });
});

function catching(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}
