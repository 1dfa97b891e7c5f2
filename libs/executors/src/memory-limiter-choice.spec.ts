import { Writable } from 'node:stream';
import { createLogger } from '@longshore/telemetry';
import { describe, expect, it } from 'vitest';
import { probeCgroupV1 } from './cgroup-v1-probe.js';
import { formatBytes } from './memory-limit.js';
import { memoryLimiterResolver, probeMemoryLimiter } from './memory-limiter-choice.js';

function capturingLogger() {
  const lines: { msg: string; memoryLimiter?: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { msg: string });
      done();
    },
  });
  return { logger: createLogger('test', { destination, level: 'info' }), lines };
}

describe('memoryLimiterResolver', () => {
  it('ignores limits for none, enforces with the watchdog when told to', async () => {
    const { logger } = capturingLogger();
    await expect(memoryLimiterResolver('none', logger)()).resolves.toEqual({ kind: 'ignore' });
    const watchdog = await memoryLimiterResolver('rss-watchdog', logger)();
    expect(watchdog.kind === 'enforce' ? watchdog.limiter.kind : watchdog.kind).toBe('rss-watchdog');
  });

  it('probes once, answers the same ever after, and logs its choice once', async () => {
    const { logger, lines } = capturingLogger();
    const resolve = memoryLimiterResolver('auto', logger);
    const [first, second] = await Promise.all([resolve(), resolve()]);
    expect(second).toBe(first);
    expect(await resolve()).toBe(first);
    const expected = (await probeCgroupV1()).usable ? 'cgroup-v1' : 'rss-watchdog';
    expect(first.kind === 'enforce' ? first.limiter.kind : first.kind).toBe(expected);
    expect(lines.map((l) => l.memoryLimiter)).toEqual([expected]);
    await expect(probeMemoryLimiter()).resolves.toBe(expected);
  });
});

describe('formatBytes', () => {
  it('writes sizes as people read them', () => {
    expect(formatBytes(64 * 1024 * 1024)).toBe('64 MiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(100)).toBe('100 B');
    expect(formatBytes(3 * 1024 ** 3 + 1)).toBe('3 GiB');
  });
});
