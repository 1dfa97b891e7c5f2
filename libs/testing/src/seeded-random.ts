/**
 * mulberry32: a tiny seeded PRNG returning floats in [0, 1), for randomized tests and benchmark
 * workloads that must replay from a printed seed. Written out (a dozen lines) rather than a
 * dependency: only reproducibility matters here, not statistical quality.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
