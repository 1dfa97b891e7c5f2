import { describe, expect, it } from 'vitest';
import { formatStandard, parseStandard, resolveLimits, weightShare } from './standard.js';

const GI = 1024 ** 3;

describe("a pool's standard agent", () => {
  it('reads and writes cpus=2,memory=4Gi, and refuses anything else naming the fix', () => {
    expect(parseStandard('standard', 'cpus=2,memory=4Gi')).toEqual({ cpusMilli: 2000, memoryBytes: 4 * GI });
    expect(parseStandard('standard', 'memory=512Mi')).toEqual({ memoryBytes: 512 * 1024 ** 2 });
    expect(parseStandard('standard', '')).toBeUndefined();
    expect(formatStandard({ cpusMilli: 1500, memoryBytes: 4 * GI })).toBe('cpus=1.5,memory=4Gi');
    expect(() => parseStandard('standard', 'cpu=2')).toThrow('unknown key "cpu": a standard agent has cpus and memory');
    expect(() => parseStandard('standard', 'cpus')).toThrow('"cpus" is not key=value');
    expect(() => parseStandard('standard', 'memory=lots')).toThrow('standard.memory');
  });

  it("gives a weight its share, exactly in thousandths", () => {
    expect(weightShare({ cpusMilli: 2000, memoryBytes: 4 * GI }, 250)).toEqual({ cpusMilli: 500, memoryBytes: GI });
    expect(weightShare({ cpusMilli: 2000 }, 1000)).toEqual({ cpusMilli: 2000 });
  });

  it("gives a job without limits its weight's share, keeps its own within the share, and refuses more with the numbers", () => {
    const pool = { id: 'ingest', standard: { cpusMilli: 2000, memoryBytes: 4 * GI } };
    expect(resolveLimits({}, 500, pool)).toEqual({ cpusMilli: 1000, memoryBytes: 2 * GI });
    expect(resolveLimits({ memoryBytes: GI }, 500, pool)).toEqual({ cpusMilli: 1000, memoryBytes: GI });
    expect(() => resolveLimits({ memoryBytes: 3 * GI }, 500, pool)).toThrow(`memory_bytes: 3Gi is more than weight 0.5's share of pool "ingest"'s standard agent (2Gi of 4Gi)`);
    expect(() => resolveLimits({ cpusMilli: 1500 }, 500, pool)).toThrow(`cpus_milli: 1.5 CPUs is more than weight 0.5's share of pool "ingest"'s standard agent (1 of 2 CPUs)`);
    // No standard: weights are admission only; the job's own limits stand.
    expect(resolveLimits({ memoryBytes: 3 * GI }, 500, { id: 'p' })).toEqual({ memoryBytes: 3 * GI });
  });
});
