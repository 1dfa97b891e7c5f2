import { describe, expect, it } from 'vitest';
import { Resources } from './resources.js';

describe('Resources', () => {
  it('stops in reverse order, keeps going past a failure, then throws it', async () => {
    const stopped: string[] = [];
    const res = new Resources();
    const item = (name: string, fail = false) => ({
      stop: async () => {
        stopped.push(name);
        if (fail) throw new Error(`${name} failed`);
      },
    });
    const redis = res.add(item('redis'));
    res.add(item('registry', true));
    res.add(item('agent'));
    expect(typeof redis.stop).toBe('function');

    await expect(res.stopAll()).rejects.toThrow('registry failed');
    expect(stopped).toEqual(['agent', 'registry', 'redis']);

    await res.stopAll(); // nothing left to stop
    expect(stopped).toHaveLength(3);
  });

  it('reports several failures together', async () => {
    const res = new Resources();
    res.add({ stop: () => Promise.reject(new Error('a')) });
    res.add({ stop: () => Promise.reject(new Error('b')) });
    const err = await res.stopAll().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AggregateError);
    expect((err as AggregateError).errors.map((e: Error) => e.message)).toEqual(['b', 'a']);
  });
});
