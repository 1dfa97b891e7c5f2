import { describe, expect, it } from 'vitest';
import { describeFargateSize, FARGATE_SIZES, fargateSizeFor } from './ecs-fargate.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe('Fargate sizes', () => {
  it('are the pairs Fargate accepts', () => {
    expect(FARGATE_SIZES.filter((s) => s.cpu === 256).map((s) => s.memoryMiB)).toEqual([512, 1024, 2048]);
    expect(FARGATE_SIZES.filter((s) => s.cpu === 512).map((s) => s.memoryMiB)).toEqual([1024, 2048, 3072, 4096]);
    expect(FARGATE_SIZES.filter((s) => s.cpu === 8192).map((s) => s.memoryMiB)).toEqual([16384, 20480, 24576, 28672, 32768, 36864, 40960, 45056, 49152, 53248, 57344, 61440]);
    expect(FARGATE_SIZES.at(-1)).toEqual({ cpu: 16384, memoryMiB: 122880 });
  });

  it('round a request up to the next valid pair: enough CPU first, then enough memory', () => {
    expect(fargateSizeFor(250, 512 * MiB)).toEqual({ cpu: 256, memoryMiB: 512 });
    expect(fargateSizeFor(250, 513 * MiB)).toEqual({ cpu: 256, memoryMiB: 1024 });
    // A quarter of a 4-CPU, 16Gi standard agent.
    expect(fargateSizeFor(1000, 4 * GiB)).toEqual({ cpu: 1024, memoryMiB: 4096 });
    // More memory than 1 vCPU can have: the next CPU size that can.
    expect(fargateSizeFor(1000, 9 * GiB)).toEqual({ cpu: 2048, memoryMiB: 9216 });
    expect(fargateSizeFor(undefined, 100 * MiB)).toEqual({ cpu: 256, memoryMiB: 512 });
    expect(fargateSizeFor(3000, undefined)).toEqual({ cpu: 4096, memoryMiB: 8192 });
    expect(fargateSizeFor(17_000, undefined)).toBeUndefined();
    expect(fargateSizeFor(1000, 121 * GiB)).toBeUndefined();
  });

  it('are recorded readably', () => {
    expect(describeFargateSize({ cpu: 256, memoryMiB: 512 })).toBe('Fargate 0.25 vCPU / 0.5 GiB (cpu 256, memory 512 MiB)');
  });
});
