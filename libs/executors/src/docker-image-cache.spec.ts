import { silentLogger } from '@longshore/telemetry';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { BuiltImageCache, chooseEvictions, type CachedImage } from './docker-image-cache.js';

const image = (id: string, size: number, lastUsed: number, inUse = false): CachedImage => ({ id, size, lastUsed, inUse });

describe('which built images go', () => {
  it('removes nothing while the total fits under the cap', () => {
    expect(chooseEvictions([image('a', 40, 1), image('b', 60, 2)], 100)).toEqual([]);
    expect(chooseEvictions([], 0)).toEqual([]);
  });

  it('removes the least recently used first, and only as many as needed', () => {
    const images = [image('new', 30, 300), image('old', 30, 100), image('mid', 30, 200)];
    expect(chooseEvictions(images, 60)).toEqual(['old']);
    expect(chooseEvictions(images, 30)).toEqual(['old', 'mid']);
    expect(chooseEvictions(images, 0)).toEqual(['old', 'mid', 'new']);
  });

  it('never removes an image in use, though it counts towards the total', () => {
    const images = [image('old-running', 50, 100, true), image('mid', 30, 200), image('new', 30, 300)];
    expect(chooseEvictions(images, 80)).toEqual(['mid']);
    expect(chooseEvictions(images, 0)).toEqual(['mid', 'new']);
    expect(chooseEvictions([image('a', 500, 1, true)], 10)).toEqual([]);
  });
});

/** An engine holding `images` (built ones carry the labels) and containers of `usedIds`: enough of dockerode for the collector. */
function fakeEngine(images: { id: string; key?: string; baseId?: string; size: number; created: number }[], usedIds: string[] = []) {
  const removed: string[] = [];
  const refused: string[] = [];
  const present = () => images.filter((i) => !removed.includes(i.id));
  const docker = {
    listImages: async ({ filters }: { filters: { label: string[] } }) => {
      expect(filters.label).toEqual(['longshore.build']);
      return present()
        .filter((i) => i.key !== undefined)
        .map((i) => ({ Id: i.id, Size: i.size, Created: i.created, Labels: { 'longshore.build': i.key!, 'longshore.base-id': i.baseId ?? '' } }));
    },
    listContainers: async () => usedIds.map((id) => ({ ImageID: id })),
    getImage: (id: string) => ({
      inspect: async () => {
        const found = present().find((i) => i.id === id);
        if (!found) throw Object.assign(new Error('no such image'), { statusCode: 404 });
        return { Id: id, Size: found.size };
      },
      remove: async () => {
        if (usedIds.includes(id)) {
          refused.push(id);
          throw Object.assign(new Error('image is in use'), { statusCode: 409 });
        }
        removed.push(id);
      },
    }),
  };
  return { docker: docker as unknown as Docker, removed, refused };
}

describe('the built image cache', () => {
  const base = { id: 'base', size: 1000, created: 1 };
  const built = (id: string, own: number, created: number) => ({ id, key: `key-${id}`, baseId: 'base', size: 1000 + own, created });

  it('weighs each image without its base, and removes the least recently used until the rest fit', async () => {
    const { docker, removed } = fakeEngine([base, built('a', 10, 100), built('b', 10, 200), built('c', 10, 300)]);
    const cache = new BuiltImageCache(async () => docker, 20, silentLogger());
    cache.collect();
    await cache.idle();
    expect(removed).toEqual(['a']); // 30 bytes of their own over a cap of 20: the oldest goes
  });

  it('counts a use as more recent than a build, keeps pinned builds, and skips images a container uses', async () => {
    const { docker, removed, refused } = fakeEngine([base, built('a', 10, 100), built('b', 10, 200), built('c', 10, 300), built('d', 10, 400)], ['b']);
    let now = 1_000_000; // ms, after every image's creation
    const cache = new BuiltImageCache(async () => docker, 0, silentLogger(), () => now);
    cache.pin('key-a')(); // a was used (and released) just now: the most recent
    const releaseC = cache.pin('key-c');
    now += 1;
    cache.collect();
    await cache.idle();
    expect(removed).toEqual(['d', 'a']); // b: a container uses it; c: pinned
    releaseC();
    cache.collect();
    await cache.idle();
    expect(removed).toEqual(['d', 'a', 'c']);
    expect(refused).toEqual([]); // never even tried
  });

  it('removes nothing without a cap', async () => {
    const { docker, removed } = fakeEngine([base, built('a', 10, 100)]);
    const cache = new BuiltImageCache(async () => docker, null, silentLogger());
    cache.collect();
    await cache.idle();
    expect(removed).toEqual([]);
  });
});
