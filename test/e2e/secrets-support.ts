import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';

// What the secrets e2e tests share: a scan of everything in Redis, and how jobs show which value they got.

/** Every key and value in Redis, as text (strings, hashes, lists, sets, sorted sets, streams). */
export async function dumpRedis(url: string): Promise<string> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        out.push(key);
        const type = await r.type(key);
        if (type === 'string') out.push((await r.get(key)) ?? '');
        else if (type === 'hash') out.push(JSON.stringify(await r.hgetall(key)));
        else if (type === 'list') out.push(JSON.stringify(await r.lrange(key, 0, -1)));
        else if (type === 'set') out.push(JSON.stringify(await r.smembers(key)));
        else if (type === 'zset') out.push(JSON.stringify(await r.zrange(key, 0, -1, 'WITHSCORES')));
        else if (type === 'stream') out.push(JSON.stringify(await r.xrange(key, '-', '+')));
        else out.push(`<${type}>`);
      }
    } while (cursor !== '0');
    return out.join('\n');
  } finally {
    r.disconnect();
  }
}

/** sha256 of a value: what jobs print to show which value they got (argv is stored, so no value may be written there). */
export const sha = (v: string) => createHash('sha256').update(v).digest('hex');
/** A shell snippet printing `NAME=<sha256 of $NAME>`. */
export const shaOf = (name: string) => `echo "${name}=$(printf %s "$${name}" | sha256sum | cut -d' ' -f1)"`;
