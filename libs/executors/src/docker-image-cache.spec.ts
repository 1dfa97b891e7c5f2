import { describe, expect, it } from 'vitest';
import { chooseEvictions, type CachedImage } from './docker-image-cache.js';

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
