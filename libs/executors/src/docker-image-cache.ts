import { formatBytes } from '@longshore/domain';
import type { Logger } from '@longshore/telemetry';
import type Docker from 'dockerode';
import { BUILD_LABELS } from './docker-build-plan.js';
import { engineMessage, statusOf } from './docker-run.js';

/** One built image as the collector weighs it. */
export interface CachedImage {
  id: string;
  /** Bytes of its own (its size less its base image's). */
  size: number;
  /** Epoch ms a run last used it (or it was built). */
  lastUsed: number;
  /** A container (running or not) or a starting run uses it: it cannot go. */
  inUse: boolean;
}

/**
 * The images to remove, least recently used first, so that the rest fit in `capBytes`; images
 * in use count towards the total but are never chosen (so the total may stay above the cap).
 */
export function chooseEvictions(images: readonly CachedImage[], capBytes: number): string[] {
  let total = images.reduce((sum, image) => sum + image.size, 0);
  const evict: string[] = [];
  for (const image of [...images].sort((a, b) => a.lastUsed - b.lastUsed)) {
    if (total <= capBytes) break;
    if (image.inUse) continue;
    evict.push(image.id);
    total -= image.size;
  }
  return evict;
}

/**
 * The images this agent's docker executor built from build steps (labelled `longshore.build`),
 * kept under a size cap (`LONGSHORE_DOCKER_IMAGE_CACHE`) by removing the least recently used
 * ones. A run pins its build's key from before it looks the image up until its container exists
 * (then the container holds the image), so an image is never removed between being found and
 * being used. Last-use times live in memory (an image's labels cannot change), seeded from each
 * image's creation time. Another agent on the same engine does not see this agent's pins: its
 * collector could remove an image this one just found, and that start fails (`start_failed`).
 */
export class BuiltImageCache {
  private readonly pins = new Map<string, number>();
  private readonly lastUsed = new Map<string, number>();
  private running: Promise<void> | undefined;
  private again = false;
  /** Settles when no removal is under way; a lookup waits for it after pinning. */
  private removal: Promise<void> = Promise.resolve();

  /**
   * @param capBytes the cap on the built images' own bytes; null = no cap (nothing is removed).
   */
  constructor(
    private readonly docker: () => Promise<Docker>,
    private readonly capBytes: number | null,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Marks build `key` as used now and keeps its image until the returned release is called. */
  pin(key: string): () => void {
    this.pins.set(key, (this.pins.get(key) ?? 0) + 1);
    this.lastUsed.set(key, this.now());
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.pins.get(key) ?? 1) - 1;
      if (left > 0) this.pins.set(key, left);
      else this.pins.delete(key);
      this.lastUsed.set(key, this.now());
    };
  }

  /** Waits until no removal is under way (call after pinning, before looking the image up). */
  settled(): Promise<void> {
    return this.removal;
  }

  /**
   * Removes least recently used built images until they fit under the cap, in the background:
   * one pass at a time, and a call during a pass runs one more after it. Errors are logged.
   */
  collect(): void {
    const capBytes = this.capBytes;
    if (capBytes === null) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.pass(capBytes).catch((err: unknown) => this.logger.warn({ err }, 'could not collect built docker images (LONGSHORE_DOCKER_IMAGE_CACHE)'));
      } while (this.again);
    })().finally(() => (this.running = undefined));
  }

  /** Resolves once no collection is running (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async pass(capBytes: number): Promise<void> {
    const docker = await this.docker();
    const images = await docker.listImages({ filters: { label: [BUILD_LABELS.build] } });
    if (images.length === 0) return;
    const used = new Set((await docker.listContainers({ all: true })).map((c) => c.ImageID));
    const baseSizes = await this.baseSizes(docker, images);
    const keyOf = new Map(images.map((i) => [i.Id, i.Labels?.[BUILD_LABELS.build] ?? '']));
    const weighed: CachedImage[] = images.map((i) => {
      const key = keyOf.get(i.Id)!;
      const base = baseSizes.get(i.Labels?.[BUILD_LABELS.baseId] ?? '') ?? 0;
      return { id: i.Id, size: Math.max(0, i.Size - base), lastUsed: this.lastUsed.get(key) ?? i.Created * 1000, inUse: used.has(i.Id) || this.pins.has(key) };
    });
    const sizeOf = new Map(weighed.map((i) => [i.id, i.size]));
    for (const id of chooseEvictions(weighed, capBytes)) {
      const key = keyOf.get(id)!;
      if (this.pins.has(key)) continue; // pinned since the listing
      const removing = this.remove(docker, id, sizeOf.get(id) ?? 0, capBytes);
      this.removal = removing.catch(() => undefined);
      await removing;
      this.lastUsed.delete(key);
    }
  }

  private async remove(docker: Docker, id: string, size: number, capBytes: number): Promise<void> {
    try {
      await docker.getImage(id).remove();
      this.logger.info({ image: id, bytes: size }, `removed built image ${id} (${formatBytes(size)} of its own), least recently used, to keep built images under LONGSHORE_DOCKER_IMAGE_CACHE=${formatBytes(capBytes)}`);
    } catch (err) {
      // 404: gone already; 409: a container or another tag still holds it (kept, tried next time).
      if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
      this.logger.debug({ image: id }, `built image ${id} was not removed: ${engineMessage(err)}`);
    }
  }

  /** The sizes of the images the built ones were built from (they are shared, not their own). */
  private async baseSizes(docker: Docker, images: Docker.ImageInfo[]): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    for (const id of new Set(images.map((i) => i.Labels?.[BUILD_LABELS.baseId]).filter((id): id is string => !!id))) {
      try {
        sizes.set(id, (await docker.getImage(id).inspect()).Size);
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    }
    return sizes;
  }
}
