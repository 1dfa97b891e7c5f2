/** A Fargate task size: CPU units (1024 = 1 vCPU) and memory in MiB. */
export interface FargateSize {
  cpu: number;
  memoryMiB: number;
}

/**
 * The CPU and memory pairs Fargate accepts (Linux), smallest first: each CPU size with its
 * memory range and step, as the ECS developer guide's "Task CPU and memory" table lists them.
 */
const FARGATE_TABLE: readonly { cpu: number; from: number; to: number; step: number }[] = [
  { cpu: 256, from: 512, to: 512, step: 512 },
  { cpu: 256, from: 1024, to: 2048, step: 1024 },
  { cpu: 512, from: 1024, to: 4096, step: 1024 },
  { cpu: 1024, from: 2048, to: 8192, step: 1024 },
  { cpu: 2048, from: 4096, to: 16384, step: 1024 },
  { cpu: 4096, from: 8192, to: 30720, step: 1024 },
  { cpu: 8192, from: 16384, to: 61440, step: 4096 },
  { cpu: 16384, from: 32768, to: 122880, step: 8192 },
];

/** Every valid Fargate pair, by CPU then memory. */
export const FARGATE_SIZES: readonly FargateSize[] = FARGATE_TABLE.flatMap(({ cpu, from, to, step }) => {
  const sizes: FargateSize[] = [];
  for (let memoryMiB = from; memoryMiB <= to; memoryMiB += step) sizes.push({ cpu, memoryMiB });
  return sizes;
});

const MIB = 1024 * 1024;

/** ECS CPU units (1024 per vCPU) for thousandths of a CPU, rounded up. */
export function cpuUnits(cpusMilli: number): number {
  return Math.ceil((cpusMilli * 1024) / 1000);
}

/** Whole MiB for a byte count, rounded up (ECS takes memory in MiB). */
export function memoryMiB(bytes: number): number {
  return Math.ceil(bytes / MIB);
}

/**
 * The smallest Fargate pair with at least `cpusMilli` of CPU and `memoryBytes` of memory
 * (either may be absent: no need); undefined when even the largest pair is too small.
 */
export function fargateSizeFor(cpusMilli: number | undefined, memoryBytes: number | undefined): FargateSize | undefined {
  const cpu = cpusMilli ? cpuUnits(cpusMilli) : 0;
  const mem = memoryBytes ? memoryMiB(memoryBytes) : 0;
  return FARGATE_SIZES.find((s) => s.cpu >= cpu && s.memoryMiB >= mem);
}

/** A size as the attempt records it, e.g. `Fargate 1 vCPU / 2 GiB (cpu 1024, memory 2048 MiB)`. */
export function describeFargateSize(size: FargateSize): string {
  const vcpu = size.cpu / 1024;
  const gib = size.memoryMiB / 1024;
  return `Fargate ${vcpu} vCPU / ${gib} GiB (cpu ${size.cpu}, memory ${size.memoryMiB} MiB)`;
}
