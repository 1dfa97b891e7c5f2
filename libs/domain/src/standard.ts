import { InvalidArgumentError } from './errors/index.js';
import type { JobSpec, PoolStandard } from './model.js';
import { formatBytes, formatMilli, parseBytes, parseMilli } from './units.js';

/**
 * A pool's standard agent as `longshore pools create --standard` writes it: `cpus=2,memory=4Gi`
 * (either or both). Empty text = none.
 */
export function parseStandard(field: string, text: string): PoolStandard | undefined {
  if (text.trim() === '') return undefined;
  const out: PoolStandard = {};
  for (const part of text.split(',')) {
    const [key, value, extra] = part.split('=').map((s) => s.trim());
    if (!value || extra !== undefined) throw new InvalidArgumentError(field, `"${part}" is not key=value: write e.g. cpus=2,memory=4Gi`);
    if (key === 'cpus') out.cpusMilli = parseMilli(`${field}.cpus`, value);
    else if (key === 'memory') out.memoryBytes = parseBytes(`${field}.memory`, value);
    else throw new InvalidArgumentError(field, `unknown key "${key}": a standard agent has cpus and memory (e.g. cpus=2,memory=4Gi)`);
  }
  return out;
}

/** A standard agent as people read it: "cpus=2,memory=4Gi". */
export function formatStandard(s: PoolStandard): string {
  return [s.cpusMilli ? `cpus=${formatMilli(s.cpusMilli)}` : '', s.memoryBytes ? `memory=${formatBytes(s.memoryBytes)}` : ''].filter(Boolean).join(',');
}

/** A weight's share of a standard agent: w × its CPUs and memory (rounded down, at least 1). */
export function weightShare(standard: PoolStandard, weightMilli: number): PoolStandard {
  const share = (v: number) => Math.max(1, Math.floor((v * weightMilli) / 1000));
  return {
    ...(standard.cpusMilli ? { cpusMilli: share(standard.cpusMilli) } : {}),
    ...(standard.memoryBytes ? { memoryBytes: share(standard.memoryBytes) } : {}),
  };
}

/**
 * A job's limits under its pool's standard agent: what it sets itself, as long as that is within
 * its weight's share (else refused, with the numbers), and its share where it sets nothing.
 * Without a standard, the job's own limits as they are.
 */
export function resolveLimits(spec: Pick<JobSpec, 'memoryBytes' | 'cpusMilli'>, weightMilli: number, pool: { id: string; standard?: PoolStandard }): Pick<JobSpec, 'memoryBytes' | 'cpusMilli'> {
  const own = { ...(spec.memoryBytes ? { memoryBytes: spec.memoryBytes } : {}), ...(spec.cpusMilli ? { cpusMilli: spec.cpusMilli } : {}) };
  if (!pool.standard) return own;
  const share = weightShare(pool.standard, weightMilli);
  const w = formatMilli(weightMilli);
  if (own.memoryBytes && share.memoryBytes && own.memoryBytes > share.memoryBytes) {
    throw new InvalidArgumentError(
      'memory_bytes',
      `${formatBytes(own.memoryBytes)} is more than weight ${w}'s share of pool "${pool.id}"'s standard agent (${formatBytes(share.memoryBytes)} of ${formatBytes(pool.standard.memoryBytes!)}): ask for less memory or a larger weight`,
    );
  }
  if (own.cpusMilli && share.cpusMilli && own.cpusMilli > share.cpusMilli) {
    throw new InvalidArgumentError(
      'cpus_milli',
      `${formatMilli(own.cpusMilli)} CPUs is more than weight ${w}'s share of pool "${pool.id}"'s standard agent (${formatMilli(share.cpusMilli)} of ${formatMilli(pool.standard.cpusMilli!)} CPUs): ask for fewer CPUs or a larger weight`,
    );
  }
  return { ...share, ...own };
}
