import type { Logger } from '@longshore/telemetry';
import { createCgroupV1Limiter, removeStaleCgroups } from './cgroup-v1.js';
import { probeCgroupV1 } from './cgroup-v1-probe.js';
import type { MemoryLimiter, MemoryLimiterChoice, MemoryLimiterKind } from './memory-limit.js';
import { createRssWatchdogLimiter, probeRssWatchdog } from './rss-watchdog.js';

/**
 * Which way of enforcing memory limits this host offers: `cgroup-v1` where the agent may create
 * memory cgroups under its own, else `rss-watchdog` where `/proc` can be read (best effort),
 * else `unavailable` (not Linux). It creates and removes a throwaway cgroup to find out.
 */
export async function probeMemoryLimiter(): Promise<MemoryLimiterKind | 'unavailable'> {
  if ((await probeCgroupV1()).usable) return 'cgroup-v1';
  return (await probeRssWatchdog()) === undefined ? 'rss-watchdog' : 'unavailable';
}

/** What an executor does with a job's memory limit: enforce it, ignore it, or refuse the job. */
export type MemoryLimiterResolution =
  | { kind: 'enforce'; limiter: MemoryLimiter }
  | { kind: 'ignore' }
  | { kind: 'unavailable'; reason: string };

/**
 * Returns a function that resolves `choice` on first call (probing the host once, and removing
 * memory cgroups left by agents that died) and returns the same answer ever after. The choice
 * is logged once, with the reason for a fallback.
 */
export function memoryLimiterResolver(choice: MemoryLimiterChoice, logger: Logger): () => Promise<MemoryLimiterResolution> {
  let resolution: Promise<MemoryLimiterResolution> | undefined;
  return () => (resolution ??= resolve(choice, logger));
}

async function resolve(choice: MemoryLimiterChoice, logger: Logger): Promise<MemoryLimiterResolution> {
  if (choice === 'none') return { kind: 'ignore' };
  let cgroupProblem: string | undefined;
  if (choice === 'auto' || choice === 'cgroup-v1') {
    const probe = await probeCgroupV1();
    if (probe.usable) {
      const staleRemoved = await removeStaleCgroups(probe.parentDir).catch((err: unknown) => {
        logger.warn({ err, cgroupParent: probe.parentDir }, 'could not look for memory cgroups left by earlier agents');
        return 0;
      });
      logger.info({ memoryLimiter: 'cgroup-v1', cgroupParent: probe.parentDir, staleRemoved }, 'job memory limits are enforced with cgroup v1 memory cgroups');
      return { kind: 'enforce', limiter: createCgroupV1Limiter(probe.parentDir, logger) };
    }
    cgroupProblem = probe.reason;
    if (choice === 'cgroup-v1') return unavailable(logger, `cgroup v1 was asked for but cannot be used: ${probe.reason}`);
  }
  const watchdogProblem = await probeRssWatchdog();
  if (watchdogProblem !== undefined) {
    const cgroupPart = cgroupProblem === undefined ? '' : `no usable memory cgroup (${cgroupProblem}) and `;
    return unavailable(logger, `${cgroupPart}${watchdogProblem}`);
  }
  logger.info(
    { memoryLimiter: 'rss-watchdog', ...(cgroupProblem === undefined ? {} : { cgroupProblem }) },
    'job memory limits are enforced by an RSS watchdog (best effort)',
  );
  return { kind: 'enforce', limiter: createRssWatchdogLimiter() };
}

function unavailable(logger: Logger, reason: string): MemoryLimiterResolution {
  logger.warn({ reason }, 'job memory limits cannot be enforced on this host; jobs with a memory limit will fail to start');
  return { kind: 'unavailable', reason };
}
