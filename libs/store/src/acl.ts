import { Keys } from './keys.js';

/**
 * The Redis ACL user an agent of one pool can run with (Redis ≥ 7): read and write only the
 * pool's own keys and channels (`~<prefix>:{POOL}:*`, `&<prefix>:{POOL}:*`), read the pool
 * catalogue and the schema version, and run the lifecycle scripts; no key-less writes (FLUSHALL),
 * no admin or dangerous commands, no other pool's jobs, records or logs.
 *
 * Returns the arguments of `ACL SETUSER` (user first), so callers can print or send them.
 */
export function poolAgentAcl(prefix: string, pool: string, user: string, password: string): string[] {
  const k = new Keys(prefix);
  const tagged = k.pool(pool).base;
  return [
    user,
    'reset',
    'on',
    `>${password}`,
    `~${tagged}*`,
    `%R~${k.pools}`,
    `%R~${k.defaultPool}`,
    `%R~${k.schema}`,
    `&${tagged}*`,
    '+@read',
    '+@write',
    '+@connection',
    '+@pubsub',
    '+evalsha',
    '+eval',
    '+info',
    '-@dangerous',
    '-@admin',
  ];
}

/** The rule as one `ACL SETUSER …` line for redis-cli (each argument quoted when needed). */
export function formatAclCommand(args: string[]): string {
  return ['ACL', 'SETUSER', ...args.map((a) => (/^[A-Za-z0-9_@%~&>:{}*.+-]+$/.test(a) ? a : JSON.stringify(a)))].join(' ');
}
