import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { longshoreHome } from './home.js';
import { ConfigError } from './parse-env.js';

/** Where `longshore up` records the URL (password included) of the Redis it started; mode 0600. */
export function redisUrlPath(source: NodeJS.ProcessEnv = process.env): string {
  return join(longshoreHome(source), 'redis-url');
}

/** The Redis URL a process uses, and where it came from (for messages, never the URL itself). */
export interface RedisUrlChoice {
  url: string;
  /** `LONGSHORE_REDIS_URL`, the URL file's path, or `default`. */
  from: string;
}

/**
 * Reads a URL file `longshore up` wrote: undefined when there is none. Refuses one other users
 * can read (it holds the password) and one that is not a single redis:// URL, naming the file
 * and the fix but never its content.
 */
export function readRedisUrlFile(path: string): string | undefined {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}): fix its permissions, or set LONGSHORE_REDIS_URL`);
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(`${path} holds the Redis password but other users may read it (mode ${(mode & 0o777).toString(8)}): run "chmod 600 ${path}"`);
  }
  const text = readFileSync(path, 'utf8').trim();
  if (!/^rediss?:\/\/\S+$/.test(text)) {
    throw new ConfigError(`${path} is not a Redis URL file (expected one redis:// URL): remove it and run longshore up again, or set LONGSHORE_REDIS_URL`);
  }
  return text;
}

/**
 * The raw stage of the Redis URL, by precedence: `LONGSHORE_REDIS_URL` > the URL file under
 * `$LONGSHORE_HOME` (written by `longshore up`) > `fallback`. Validation is the caller's
 * (the services' schema checks the scheme).
 */
export function chooseRedisUrl(source: NodeJS.ProcessEnv, fallback: string): RedisUrlChoice {
  const explicit = source['LONGSHORE_REDIS_URL'];
  if (explicit !== undefined && explicit !== '') return { url: explicit, from: 'LONGSHORE_REDIS_URL' };
  const path = redisUrlPath(source);
  const fromFile = readRedisUrlFile(path);
  return fromFile === undefined ? { url: fallback, from: 'default' } : { url: fromFile, from: path };
}
