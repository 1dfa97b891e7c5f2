import { ConfigError } from './parse-env.js';

/** One Redis node or Sentinel. */
export interface RedisNode {
  host: string;
  port: number;
}

/** Credentials a URL carries (percent-decoded). */
export interface RedisAuth {
  username?: string;
  password?: string;
}

/**
 * What `LONGSHORE_REDIS_URL` names: one server (`redis://`, `rediss://`, kept as the URL ioredis
 * parses itself), a Redis Cluster (`redis-cluster://[user:pass@]h1:p1,h2:p2`, the startup nodes),
 * or a Sentinel set-up (`redis-sentinel://[user:pass@]h1:p1,h2:p2/MASTER_NAME`; the credentials
 * are the data nodes', Sentinels are asked without).
 */
export type RedisEndpoint =
  | { kind: 'single'; url: string }
  | ({ kind: 'cluster'; nodes: RedisNode[] } & RedisAuth)
  | ({ kind: 'sentinel'; sentinels: RedisNode[]; masterName: string } & RedisAuth);

const SHAPE = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/i;
const HOST = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/;
const MASTER_NAME = /^[A-Za-z0-9._-]{1,128}$/;

const CLUSTER_FORM = 'redis-cluster://[user:password@]host1:port1,host2:port2';
const SENTINEL_FORM = 'redis-sentinel://[user:password@]host1:26379,host2:26379/MASTER_NAME';

/**
 * Parses a Redis URL of any of the three forms. Throws {@link ConfigError} naming
 * `LONGSHORE_REDIS_URL`, what is wrong and the form to write; never echoes the password.
 */
export function parseRedisEndpoint(text: string): RedisEndpoint {
  const problem = redisUrlProblem(text);
  if (problem) throw new ConfigError(`LONGSHORE_REDIS_URL ${problem}`);
  return parse(text);
}

/** What is wrong with a Redis URL (a phrase to follow the variable's name), or undefined when it is fine. */
export function redisUrlProblem(text: string): string | undefined {
  try {
    parse(text);
    return undefined;
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}

function parse(text: string): RedisEndpoint {
  const m = SHAPE.exec(text.trim());
  const scheme = m?.[1]?.toLowerCase();
  if (!m || !scheme) throw new ConfigError(`must be a redis://, rediss://, ${CLUSTER_FORM} or ${SENTINEL_FORM} URL`);
  if (scheme === 'redis' || scheme === 'rediss') return { kind: 'single', url: text.trim() };
  const [, , userinfo, hostList = '', path = '', query] = m;
  if (scheme !== 'redis-cluster' && scheme !== 'redis-sentinel') {
    throw new ConfigError(`has the scheme "${scheme}://": use redis://, rediss://, redis-cluster:// or redis-sentinel://`);
  }
  const form = scheme === 'redis-cluster' ? CLUSTER_FORM : SENTINEL_FORM;
  if (query) throw new ConfigError(`takes no query ("${query.split('=')[0]}…") in the ${scheme}:// form: write ${form}`);
  const nodes = parseHostList(hostList, scheme === 'redis-cluster' ? 6379 : 26379, form);
  const auth = parseUserinfo(userinfo);
  if (scheme === 'redis-cluster') {
    if (path !== '' && path !== '/') throw new ConfigError(`names a database or path ("${path}"), which a Redis Cluster does not have: write ${form}`);
    return { kind: 'cluster', nodes, ...auth };
  }
  const name = decodeURIComponent(path.replace(/^\//, '').replace(/\/$/, ''));
  if (name === '') throw new ConfigError(`names no master: put the master's name, as the Sentinels know it (SENTINEL MASTERS), after the host list: ${form}`);
  if (!MASTER_NAME.test(name)) throw new ConfigError(`names the master "${name}", which is not a Sentinel master name (letters, digits, ., _ or -): ${form}`);
  return { kind: 'sentinel', sentinels: nodes, masterName: name, ...auth };
}

function parseHostList(list: string, defaultPort: number, form: string): RedisNode[] {
  if (list.trim() === '') throw new ConfigError(`names no hosts: write ${form}`);
  return list.split(',').map((entry) => {
    const item = entry.trim();
    if (item === '') throw new ConfigError(`has an empty entry in its host list "${list}" (a stray comma?): write ${form}`);
    const at = item.startsWith('[') ? item.indexOf(']') + 1 : item.lastIndexOf(':');
    const hasPort = at > 0 && item[at] === ':';
    const host = item.startsWith('[') ? item.slice(0, at) : hasPort ? item.slice(0, at) : item;
    const portText = hasPort ? item.slice(at + 1) : undefined;
    if (!HOST.test(host)) throw new ConfigError(`has "${item}" in its host list, which is not HOST:PORT: write ${form}`);
    let port = defaultPort;
    if (portText !== undefined) {
      port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
      if (!(port >= 1 && port <= 65535)) throw new ConfigError(`has "${item}" in its host list, whose port "${portText}" is not a number from 1 to 65535: write ${form}`);
    }
    return { host: host.startsWith('[') ? host.slice(1, -1) : host, port };
  });
}

function parseUserinfo(userinfo: string | undefined): RedisAuth {
  if (userinfo === undefined || userinfo === '') return {};
  const colon = userinfo.indexOf(':');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new ConfigError('has a user or password with a malformed %-escape: percent-encode special characters (e.g. @ as %40)');
    }
  };
  const username = decode(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = colon < 0 ? undefined : decode(userinfo.slice(colon + 1));
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

/** The URL with its password replaced by `***`, for logs and messages (any of the three forms). */
export function redactRedisUrl(url: string): string {
  const m = SHAPE.exec(url.trim());
  if (!m) return '<invalid url>';
  const userinfo = m[2];
  if (userinfo === undefined || !userinfo.includes(':')) return url.trim();
  const user = userinfo.slice(0, userinfo.indexOf(':'));
  return url.trim().replace(`${userinfo}@`, `${user}:***@`);
}
