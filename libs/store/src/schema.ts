import type { Redis } from './redis.js';
import { Keys, SCHEMA_VERSION } from './keys.js';

/** Keys only the first schema (before pools had their own hash tag) wrote. */
const V1_MARKERS = (k: Keys) => [`${k.prefix}:jobs`, `${k.prefix}:jobs:finished`, `${k.prefix}:pools`, `${k.prefix}:tokens`];

/**
 * Makes sure the data under `prefix` was written with this version's key schema: stamps an
 * empty Redis, and refuses (never misreads) data of another version, saying how to move on.
 */
export async function checkSchema(redis: Redis, prefix = 'ls'): Promise<void> {
  const k = new Keys(prefix);
  let found = await redis.get(k.schema);
  if (found === null) {
    // One key at a time: the markers have no common hash tag (a Cluster refuses a cross-slot EXISTS).
    const old = await Promise.all(V1_MARKERS(k).map((key) => redis.exists(key)));
    if (old.some((n) => n > 0)) found = '1';
    else {
      await redis.set(k.schema, String(SCHEMA_VERSION), 'NX');
      found = (await redis.get(k.schema)) ?? String(SCHEMA_VERSION);
    }
  }
  if (found !== String(SCHEMA_VERSION)) {
    throw new Error(
      `this Redis holds Longshore data of key schema version ${found} under the prefix "${prefix}", and this version of Longshore uses version ${SCHEMA_VERSION}: ` +
        `there is no in-place migration. Let the old cluster finish its jobs, then point this version at an empty Redis (or another LONGSHORE_REDIS_PREFIX); ` +
        `for a local cluster started by "longshore up", stop it and delete $LONGSHORE_HOME/redis (its Redis data) to start afresh.`,
    );
  }
}
